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

// Rulesets repeat their addresses; parsing one costs more than a lookup.
const addressCache = new Map<string, bigint | null>();

/** Integer value of an address of the given family, or null when it is not one. */
export function addressValue(text: string, family: Family): bigint | null {
  const key = `${family}${text}`;
  const cached = addressCache.get(key);
  if (cached !== undefined) return cached;
  const value = parseAddress(text, family);
  if (addressCache.size > 100_000) addressCache.clear();
  addressCache.set(key, value);
  return value;
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
