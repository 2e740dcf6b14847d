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
  /** UDP payload bytes, for rules that match on lengths; none given, such rules are unknown. */
  length?: number;
}

/** The largest UDP payload an IPv4 datagram can carry (65535 - 20 - 8). */
export const MAX_UDP_PAYLOAD = 65507;

/** The same packet, checked and with addresses as integers. */
export interface Packet extends Required<Omit<PacketSpec, "iif" | "oif" | "length">> {
  iif?: string;
  oif?: string;
  length?: number;
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

/** a.b.c.d in decimal without leading zeros (what ipaddr.js calls four-part decimal), else null. */
export function plainIpv4(text: string): bigint | null {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return null; // a leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return null;
    } else return null;
  }
  if (dots !== 3 || digits === 0) return null;
  return BigInt(value * 256 + octet);
}

/** Reused: "0x" and 32 hex digits, the address's value spelled out for BigInt(). */
const hexBuffer: number[] = [48, 120, ...Array.from({ length: 32 }, () => 48)];

function hexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/**
 * Hex groups of 1 to 4 digits with at most one `::` standing for at least one zero group (the
 * form nft prints), else null; other spellings are left to ipaddr.js.
 */
export function plainIpv6(text: string): bigint | null {
  const n = text.length;
  if (n < 2 || n > 39) return null;
  // Groups before the gap fill the buffer from the left; those after it are shifted right once
  // their count is known.
  let groups = 0;
  let gapAt = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58 /* : */) {
    if (text.charCodeAt(1) !== 58) return null;
    gapAt = 0;
    i = 2;
    if (i === n) { hexBuffer.fill(48, 2); return 0n; }
  }
  for (;;) {
    const start = i;
    while (i < n && hexDigit(text.charCodeAt(i))) i++;
    const len = i - start;
    if (len === 0 || len > 4 || groups === 8) return null;
    const at = 2 + groups * 4;
    for (let k = 0; k < 4; k++) hexBuffer[at + k] = k < 4 - len ? 48 : text.charCodeAt(start + k - (4 - len));
    groups++;
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return null;
    i++;
    if (i < n && text.charCodeAt(i) === 58) {
      if (gapAt >= 0) return null;
      gapAt = groups;
      i++;
      if (i === n) break;
    } else if (i === n) return null;
  }
  if (gapAt < 0) {
    if (groups !== 8) return null;
  } else {
    const zeros = 8 - groups;
    if (zeros < 1) return null;
    const tail = groups - gapAt;
    // Move the groups after the gap to the end and zero the gap.
    hexBuffer.copyWithin(2 + (gapAt + zeros) * 4, 2 + gapAt * 4, 2 + (gapAt + tail) * 4);
    hexBuffer.fill(48, 2 + gapAt * 4, 2 + (gapAt + zeros) * 4);
  }
  return BigInt(String.fromCharCode.apply(null, hexBuffer));
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

function payloadLength(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > MAX_UDP_PAYLOAD) throw new PacketError(`length must be a UDP payload size from 0 to ${MAX_UDP_PAYLOAD} bytes, got ${JSON.stringify(value)}`);
  return n;
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
    length: payloadLength(spec.length),
  };
}
