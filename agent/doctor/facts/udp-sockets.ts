// Which UDP sockets are bound in this network namespace (/proc/net/udp, /proc/net/udp6) and
// which process holds each: "is the receiver listening, or did something else take 162?"
import { readdirSync, readlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import ipaddr from "ipaddr.js";
import { procText } from "./node-exporter-process";

export interface UdpSocket {
  family: "ipv4" | "ipv6";
  address: string;
  port: number;
  inode: number;
}

export interface SocketOwner {
  pid: number;
  comm: string;
  cmdline: string[];
}

function hexWordToBytes(word: string): number[] {
  // /proc prints each 32-bit word in host byte order; x86 and arm64 are little-endian.
  const bytes = word.match(/../g)!.map((b) => parseInt(b, 16));
  return bytes.reverse();
}

/** Pure: one /proc/net/udp{,6} table -> the sockets in it. */
export function parseProcNetUdp(text: string, family: "ipv4" | "ipv6"): UdpSocket[] {
  const out: UdpSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [hexAddr, hexPort] = fields[1].split(":");
    if (!hexAddr || !hexPort) continue;
    const words = hexAddr.match(/.{8}/g) ?? [];
    const bytes = words.flatMap(hexWordToBytes);
    let address: string;
    try {
      address = ipaddr.fromByteArray(bytes).toString();
    } catch {
      continue;
    }
    out.push({ family, address, port: parseInt(hexPort, 16), inode: Number(fields[9]) });
  }
  return out;
}

export interface ListenSpec {
  transport: "udp" | "udp4" | "udp6";
  host: string;
  port: number;
}

/** Pure: "udp6:[::]:162" -> its parts (the config loader has checked the shape). */
export function parseListen(spec: string): ListenSpec | null {
  const match = /^(udp|udp4|udp6):\[?([^\]]*?)\]?:(\d+)$/.exec(spec);
  return match ? { transport: match[1] as ListenSpec["transport"], host: match[2], port: Number(match[3]) } : null;
}

function isWildcard(address: string): boolean {
  return address === "0.0.0.0" || address === "::";
}

/** Pure: the bound sockets that would receive what a listen address is meant to get. */
export function socketsFor(spec: ListenSpec, sockets: UdpSocket[]): UdpSocket[] {
  const wantV6 = spec.transport === "udp6" || (spec.transport === "udp" && spec.host.includes(":"));
  const specific = ipaddr.isValid(spec.host) ? ipaddr.process(spec.host).toString() : null;
  return sockets.filter((s) => {
    if (s.port !== spec.port) return false;
    // A dual-stack [::] socket also receives IPv4, so it serves an IPv4 listen address too.
    if (wantV6 ? s.family !== "ipv6" : s.family === "ipv6" && s.address !== "::") return false;
    if (!specific || isWildcard(s.address)) return true;
    return ipaddr.process(s.address).toString() === specific;
  });
}

export async function boundUdpSockets(procNet = "/proc/net"): Promise<UdpSocket[]> {
  const [v4, v6] = await Promise.all([
    readFile(`${procNet}/udp`, "utf8").catch(() => ""),
    readFile(`${procNet}/udp6`, "utf8").catch(() => ""),
  ]);
  return [...parseProcNetUdp(v4, "ipv4"), ...parseProcNetUdp(v6, "ipv6")];
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
