// Which process holds each bound UDP socket (the sockets come from probes/udp-listeners.ts) and
// whether they serve a listen address: "is the receiver listening, or did something else take 162?"
import { readdirSync, readlinkSync } from "node:fs";
import ipaddr from "ipaddr.js";
import type { UdpSocket } from "../../probes/udp-listeners";
import { parseListenAddress, type ListenAddress } from "../../receiver/listen-address";
import { procText } from "./node-exporter-process";

export interface SocketOwner {
  pid: number;
  comm: string;
  cmdline: string[];
}

/** A receiver.listen entry as the receiver itself reads it; null when it would refuse it. */
export function parseListen(spec: string): ListenAddress | null {
  try {
    return parseListenAddress(spec);
  } catch {
    return null;
  }
}

function isWildcard(address: string): boolean {
  return address === "0.0.0.0" || address === "::";
}

/** Pure: the bound sockets that would receive what a listen address is meant to get. */
export function socketsFor(spec: ListenAddress, sockets: UdpSocket[]): UdpSocket[] {
  const wantV6 = spec.transport === "udp6";
  const specific = ipaddr.process(spec.address).toString();
  return sockets.filter((s) => {
    if (s.port !== spec.port) return false;
    // A dual-stack [::] socket also receives IPv4, so it serves an IPv4 listen address too.
    if (wantV6 ? s.family !== "ipv6" : s.family === "ipv6" && s.address !== "::") return false;
    if (isWildcard(s.address)) return true;
    return ipaddr.process(s.address).toString() === specific;
  });
}

function readdirOrEmpty(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/**
 * Maps socket inodes to their processes by reading /proc/PID/fd (needs root for others' fds).
 * Synchronous for the reason given in node-exporter-process.ts.
 */
export function socketOwners(inodes: number[]): Map<number, SocketOwner> {
  const wanted = new Set(inodes.map((i) => `socket:[${i}]`));
  const owners = new Map<number, SocketOwner>();
  if (wanted.size === 0) return owners;
  for (const pid of readdirOrEmpty("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    for (const fd of readdirOrEmpty(`/proc/${pid}/fd`)) {
      let link = "";
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!wanted.has(link)) continue;
      const comm = procText(`/proc/${pid}/comm`).trim() || "?";
      const cmdline = procText(`/proc/${pid}/cmdline`).split("\0").filter(Boolean);
      owners.set(Number(link.slice(8, -1)), { pid: Number(pid), comm, cmdline });
    }
    if (owners.size === wanted.size) break;
  }
  return owners;
}
