// The UDP sockets bound in this network namespace, read from /proc/net/udp{,6}, and whether
// anything listens on a local address and port. A UDP request to a port nobody listens on is
// otherwise only noticed when its timeout runs out (net-snmp's unconnected socket never sees the
// ICMP port-unreachable). doctor reads the same tables to find who holds the receiver's port.
import { readFile } from "node:fs/promises";
import { endianness, networkInterfaces } from "node:os";
import ipaddr from "ipaddr.js";

export interface UdpSocket {
  family: "ipv4" | "ipv6";
  address: string;
  port: number;
  /** The socket's inode (0 when the line has none), to find its process in /proc/PID/fd. */
  inode: number;
}

/** /proc prints each 32-bit word of the address in host byte order. */
function wordToBytes(hex: string, littleEndian: boolean): number[] {
  const bytes = hex.match(/../g)!.map((b) => parseInt(b, 16));
  return littleEndian ? bytes.reverse() : bytes;
}

/** Pure: the bound local sockets of a /proc/net/udp or /proc/net/udp6 table. */
export function parseProcNetUdp(text: string, littleEndian = endianness() === "LE"): UdpSocket[] {
  const out: UdpSocket[] = [];
  for (const line of text.split("\n")) {
    const match = /^\s*\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s/.exec(line);
    if (!match) continue;
    const words = match[1].match(/.{8}/g)!;
    const bytes = words.flatMap((w) => wordToBytes(w, littleEndian));
    const address = ipaddr.fromByteArray(bytes);
    const inode = Number(line.trim().split(/\s+/)[9] ?? 0);
    out.push({ family: words.length === 1 ? "ipv4" : "ipv6", address: address.toString(), port: parseInt(match[2], 16), inode: Number.isInteger(inode) ? inode : 0 });
  }
  return out;
}

/** Every UDP socket bound in this network namespace; an unreadable table counts as empty. */
export async function boundUdpSockets(procNet = "/proc/net"): Promise<UdpSocket[]> {
  const tables = await Promise.all([`${procNet}/udp`, `${procNet}/udp6`].map((path) => readFile(path, "utf8").catch(() => "")));
  return tables.flatMap((t) => parseProcNetUdp(t));
}

/** Pure: would a datagram to host:port reach one of these sockets? Wildcards and v4-mapped count. */
export function someoneListens(sockets: UdpSocket[], host: string, port: number): boolean {
  const target = ipaddr.process(host).toString();
  return sockets.some((s) => {
    if (s.port !== port) return false;
    const bound = ipaddr.process(s.address).toString();
    // A socket on :: may be v6-only; counting it for IPv4 errs on the side of asking.
    return bound === target || bound === "0.0.0.0" || bound === "::";
  });
}

/** Whether `host` is one of this host's own addresses (only then does /proc/net/udp decide). */
export function isLocalAddress(host: string): boolean {
  if (!ipaddr.isValid(host)) return false;
  const parsed = ipaddr.process(host);
  if (parsed.range() === "loopback") return true;
  const wanted = parsed.toString();
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((i) => ipaddr.isValid(i.address.split("%")[0]) && ipaddr.process(i.address.split("%")[0]).toString() === wanted));
}

/**
 * True or false when `host` is a local address and the kernel's socket tables could be read;
 * null when it cannot tell (a remote host, no /proc), so the caller just asks and waits.
 */
export async function localUdpListener(host: string, port: number): Promise<boolean | null> {
  if (!isLocalAddress(host)) return null;
  const tables = await Promise.all(["/proc/net/udp", "/proc/net/udp6"].map((path) => readFile(path, "utf8").catch(() => null)));
  if (tables.every((t) => t === null)) return null;
  const sockets = tables.flatMap((t) => (t === null ? [] : parseProcNetUdp(t)));
  return someoneListens(sockets, host, port);
}
