// A UDP socket's memory as the kernel reports it (ss -m): the receive buffer it was granted, the
// bytes queued in it not yet read, and the datagrams it dropped because it was full. Reading it
// costs the receiver under test nothing, unlike asking it over /metrics.
import { spawnSync } from "node:child_process";

export interface UdpSocketMemory {
  /** skmem rb: the receive buffer's size, bytes. */
  buffer: number;
  /** skmem r: bytes waiting to be read. */
  queued: number;
  /** skmem d: datagrams dropped (the buffer was full). */
  drops: number;
}

/** The socket bound to a loopback UDP port, or null when none is. */
export function udpSocketMemory(port: number): UdpSocketMemory | null {
  const out = spawnSync("ss", ["-ulmn", `sport = :${port}`], { encoding: "utf8" }).stdout;
  const m = /skmem:\(r(\d+),rb(\d+),.*?\bd(\d+)\)/.exec(out);
  return m ? { queued: Number(m[1]), buffer: Number(m[2]), drops: Number(m[3]) } : null;
}
