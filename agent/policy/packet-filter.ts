// The packet filter control sends a node (tailcfg.FilterRule, Go field names as JSON keys), read
// the way tailscaled's wgengine/filter reads it: address forms "*", IP, CIDR without host bits,
// "a-b" ranges and "cap:<capability>"; an entry it cannot read is skipped, the rule kept; an
// IPProto list left empty means TCP, UDP, ICMPv4 and ICMPv6; SrcBits or Bits refuse the lot.
import ipaddr from "ipaddr.js";

export interface NetPortRange {
  IP: string;
  /** Deprecated; tailscaled refuses a filter that has it. */
  Bits?: number | null;
  Ports: { First: number; Last: number };
}

export interface FilterRule {
  SrcIPs?: string[] | null;
  /** Deprecated; tailscaled refuses a filter that has it. */
  SrcBits?: number[] | null;
  DstPorts?: NetPortRange[] | null;
  IPProto?: number[] | null;
  CapGrant?: unknown[] | null;
}

/** One address range of one family, as integers (inclusive). */
export interface AddressRange {
  family: "ipv4" | "ipv6";
  first: bigint;
  last: bigint;
}

export type IpSet = { kind: "addresses"; ranges: AddressRange[] } | { kind: "cap"; cap: string };

/** A rule as tailscaled compiles it (match.go): protocols, sources, destinations with ports. */
export interface CompiledRule {
  index: number;
  protos: number[];
  srcs: AddressRange[];
  srcCaps: string[];
  dsts: { range: AddressRange; first: number; last: number }[];
}

export class FilterFormError extends Error {}

const DEFAULT_PROTOS = [6, 17, 1, 58];

export function toBig(addr: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  return addr.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

/** An address as Go's netip.ParseAddr takes it (IPv4: four plain decimal parts; no zone). */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 {
  if (ipaddr.IPv4.isValidFourPartDecimal(text) && !/(^|\.)0\d/.test(text)) return ipaddr.IPv4.parse(text);
  if (text.includes(":") && !text.includes("%") && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  throw new FilterFormError(`invalid IP address "${text}"`);
}

function single(addr: ipaddr.IPv4 | ipaddr.IPv6): AddressRange {
  const n = toBig(addr);
  return { family: addr.kind(), first: n, last: n };
}

/** tailscaled's parseIPSet: throws FilterFormError for what it would skip. */
export function parseIpSet(text: string): IpSet {
  if (text === "*") return { kind: "addresses", ranges: [{ family: "ipv4", first: 0n, last: (1n << 32n) - 1n }, { family: "ipv6", first: 0n, last: (1n << 128n) - 1n }] };
  if (text.startsWith("cap:")) return { kind: "cap", cap: text.slice(4) };
  if (text.includes("/")) {
    const [addrText, bitsText] = text.split("/");
    const addr = parseAddress(addrText);
    const width = addr.kind() === "ipv4" ? 32 : 128;
    if (!/^\d{1,3}$/.test(bitsText ?? "") || Number(bitsText) > width) throw new FilterFormError(`invalid prefix "${text}"`);
    const host = BigInt(width - Number(bitsText));
    const n = toBig(addr);
    if (n & ((1n << host) - 1n)) throw new FilterFormError(`${text} contains non-network bits set`);
    return { kind: "addresses", ranges: [{ family: addr.kind(), first: n, last: n + (1n << host) - 1n }] };
  }
  if (text.split("-").length === 2) {
    const [a, b] = text.split("-").map(parseAddress);
    if (a.kind() !== b.kind() || toBig(a) > toBig(b)) throw new FilterFormError(`invalid IP range "${text}"`);
    return { kind: "addresses", ranges: [{ family: a.kind(), first: toBig(a), last: toBig(b) }] };
  }
  return { kind: "addresses", ranges: [single(parseAddress(text))] };
}

export interface Compiled {
  rules: CompiledRule[];
  /** The first entry tailscaled would skip, as it logs only the first. */
  skipped: string | null;
  /** Set when tailscaled refuses the whole filter. */
  refused: string | null;
}

/** Compiles the rules as MatchesFromFilterRules does. */
export function compileFilter(rules: FilterRule[]): Compiled {
  let skipped: string | null = null;
  const out: CompiledRule[] = [];
  for (const [index, r] of rules.entries()) {
    if (r.SrcBits && r.SrcBits.length > 0) return { rules: [], skipped, refused: `rule ${index} has SrcBits, which this tailscaled refuses: it loads no rule of the filter` };
    const protos = !r.IPProto || r.IPProto.length === 0 ? DEFAULT_PROTOS : r.IPProto.filter((n) => Number.isInteger(n) && n >= 0 && n <= 255);
    const rule: CompiledRule = { index, protos, srcs: [], srcCaps: [], dsts: [] };
    for (const s of r.SrcIPs ?? []) {
      try {
        const set = parseIpSet(String(s));
        if (set.kind === "cap") rule.srcCaps.push(set.cap);
        else rule.srcs.push(...set.ranges);
      } catch (error) {
        skipped ??= `rule ${index}: ${(error as Error).message}`;
      }
    }
    for (const d of r.DstPorts ?? []) {
      if (d.Bits !== undefined && d.Bits !== null) return { rules: [], skipped, refused: `rule ${index} has Bits in DstPorts, which this tailscaled refuses: it loads no rule of the filter` };
      try {
        const set = parseIpSet(String(d.IP));
        if (set.kind === "cap") throw new FilterFormError(`unexpected capability "${set.cap}" in DstPorts`);
        for (const range of set.ranges) rule.dsts.push({ range, first: d.Ports?.First ?? 0, last: d.Ports?.Last ?? 0 });
      } catch (error) {
        skipped ??= `rule ${index}: ${(error as Error).message}`;
      }
    }
    out.push(rule);
  }
  return { rules: out, skipped, refused: null };
}

/** What is wrong with a document that claims to be a FilterRule list, or null. */
export function filterShapeProblem(doc: unknown): string | null {
  if (!Array.isArray(doc)) return "not a list of FilterRule";
  for (const [i, r] of doc.entries()) {
    if (typeof r !== "object" || r === null || Array.isArray(r)) return `rule ${i} is not an object`;
    const rule = r as Record<string, unknown>;
    for (const key of ["SrcIPs", "IPProto", "DstPorts", "SrcBits"]) if (rule[key] !== undefined && rule[key] !== null && !Array.isArray(rule[key])) return `rule ${i}: ${key} is not a list`;
    for (const d of (rule.DstPorts as unknown[] | undefined) ?? []) {
      const dp = d as Record<string, unknown> | null;
      if (typeof dp !== "object" || dp === null || typeof dp.IP !== "string" || typeof dp.Ports !== "object" || dp.Ports === null) return `rule ${i}: a DstPorts entry lacks IP or Ports`;
    }
  }
  return null;
}
