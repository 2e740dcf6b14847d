// The packet the evaluator asks about: the fields netfilter rules match on, validated and
// converted once (addresses to integers) so evaluating thousands of rules stays cheap.
import ipaddr from "ipaddr.js";

export type Direction = "in" | "out" | "forward";
export type Family = "ipv4" | "ipv6";
export type Proto = "udp" | "tcp";
export type CtState = "new" | "established" | "related" | "untracked";

/** A packet as a user or a JSON line describes it. */
export interface PacketSpec {
  direction: Direction;
  family: Family;
  proto: Proto;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  iif?: string;
  oif?: string;
  ctState?: CtState;
}

/** The same packet, checked and with addresses as integers. */
export interface Packet extends Required<Omit<PacketSpec, "iif" | "oif">> {
  iif?: string;
  oif?: string;
  saddrValue: bigint;
  daddrValue: bigint;
}

export class PacketError extends Error {}

export const PROTO_NUMBERS: Record<string, number> = {
  icmp: 1, igmp: 2, tcp: 6, udp: 17, dccp: 33, gre: 47, esp: 50, ah: 51, icmpv6: 58, "ipv6-icmp": 58, sctp: 132, udplite: 136,
};

/** Integer value of an address of the given family, or null when it is not one. */
export function addressValue(text: string, family: Family): bigint | null {
  // A ruleset has thousands of addresses, all in the plain form nft prints: read that form
  // directly, anything else (embedded IPv4, zone, odd spelling) the way ipaddr.js does.
  const fast = family === "ipv4" ? plainIpv4(text) : plainIpv6(text);
  return fast ?? parseAddress(text, family);
}

const PLAIN_IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** a.b.c.d in decimal without leading zeros (what ipaddr.js calls four-part decimal), else null. */
export function plainIpv4(text: string): bigint | null {
  const m = PLAIN_IPV4.exec(text);
  if (!m) return null;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return BigInt(value);
}

const HEX_AND_COLONS = /^[0-9a-f:]{2,39}$/i;

function hexGroups(part: string): string[] | null {
  if (part === "") return [];
  const groups = part.split(":");
  for (const g of groups) if (g.length === 0 || g.length > 4) return null;
  return groups;
}

/** Hex groups with at most one `::` standing for at least one zero group, else null. */
export function plainIpv6(text: string): bigint | null {
  if (!HEX_AND_COLONS.test(text)) return null;
  const gap = text.indexOf("::");
  if (gap !== text.lastIndexOf("::")) return null;
  const head = hexGroups(gap < 0 ? text : text.slice(0, gap));
  const tail = hexGroups(gap < 0 ? "" : text.slice(gap + 2));
  if (!head || !tail) return null;
  const zeros = 8 - head.length - tail.length;
  if (gap < 0 ? zeros !== 0 : zeros < 1) return null;
  let hex = "0x";
  for (const g of head) hex += g.padStart(4, "0");
  hex += "0000".repeat(zeros);
  for (const g of tail) hex += g.padStart(4, "0");
  return BigInt(hex);
}

function parseAddress(text: string, family: Family): bigint | null {
  if (family === "ipv4" ? !ipaddr.IPv4.isValidFourPartDecimal(text) : !ipaddr.IPv6.isValid(text)) return null;
  const bytes = ipaddr.parse(text).toByteArray();
  if ((family === "ipv4" && bytes.length !== 4) || (family === "ipv6" && bytes.length !== 16)) return null;
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value))
    throw new PacketError(`${what} must be one of ${allowed.join("|")}, got ${JSON.stringify(value)}`);
  return value as T;
}

function port(value: unknown, what: string): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535) throw new PacketError(`${what} must be a port from 0 to 65535, got ${JSON.stringify(value)}`);
  return n;
}

function ifname(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length === 0 || value.length > 15) throw new PacketError(`${what} must be an interface name (1 to 15 characters), got ${JSON.stringify(value)}`);
  return value;
}

/** Checks a packet description from flags or a JSON line; errors name the field. */
export function makePacket(spec: Record<string, unknown>): Packet {
  const direction = oneOf(spec.direction, ["in", "out", "forward"] as const, "direction");
  const family = oneOf(spec.family, ["ipv6", "ipv4"] as const, "family");
  const proto = oneOf(spec.proto, ["udp", "tcp"] as const, "proto");
  const ctState = spec.ctState === undefined ? "new" : oneOf(spec.ctState, ["new", "established", "related", "untracked"] as const, "ctState");
  const addr = (key: "saddr" | "daddr"): [string, bigint] => {
    const text = spec[key];
    const value = typeof text === "string" ? addressValue(text, family) : null;
    if (value === null) throw new PacketError(`${key} must be an ${family === "ipv6" ? "IPv6" : "IPv4"} address, got ${JSON.stringify(text)}`);
    return [text as string, value];
  };
  const [saddr, saddrValue] = addr("saddr");
  const [daddr, daddrValue] = addr("daddr");
  return {
    direction, family, proto, ctState, saddr, daddr, saddrValue, daddrValue,
    sport: port(spec.sport, "sport"),
    dport: port(spec.dport, "dport"),
    iif: ifname(spec.iif, "iif"),
    oif: ifname(spec.oif, "oif"),
  };
}
