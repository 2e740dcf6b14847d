// The packet filter control sends a node (tailcfg.FilterRule, Go field names as JSON keys), read
// the way tailscaled's wgengine/filter reads it: address forms "*", IP, CIDR without host bits,
// "a-b" ranges and "cap:<capability>"; an entry it cannot read is skipped, the rule kept; an
// IPProto list left empty means TCP, UDP, ICMPv4 and ICMPv6; SrcBits or Bits refuse the lot.

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

/** An address as an integer of its family. */
export interface ParsedAddress {
  family: "ipv4" | "ipv6";
  n: bigint;
}

function ipv4Number(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    // Go's netip refuses leading zeros (they read as octal elsewhere).
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

function ipv6Number(text: string): bigint | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (const [i, p] of parts.entries()) {
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = ipv4Number(p);
        if (v4 === null) return null;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail].reduce((n, g) => (n << 16n) | BigInt(g), 0n);
}

/**
 * An address as Go's netip.ParseAddr takes it: IPv4 in four plain decimal parts, IPv6 with at
 * most one "::" and an optional IPv4 tail; zones are not accepted in a filter. Hand-written
 * because a filter holds tens of thousands of addresses and a generic parser takes ~20 µs each.
 */
export function parseAddress(text: string): ParsedAddress {
  if (!text.includes(":")) {
    const v4 = ipv4Number(text);
    if (v4 !== null) return { family: "ipv4", n: BigInt(v4) };
  } else {
    const v6 = ipv6Number(text);
    if (v6 !== null) return { family: "ipv6", n: v6 };
  }
  throw new FilterFormError(`invalid IP address "${text}"`);
}

/** tailscaled's parseIPSet: throws FilterFormError for what it would skip. */
export function parseIpSet(text: string): IpSet {
  if (text === "*") return { kind: "addresses", ranges: [{ family: "ipv4", first: 0n, last: (1n << 32n) - 1n }, { family: "ipv6", first: 0n, last: (1n << 128n) - 1n }] };
  if (text.startsWith("cap:")) return { kind: "cap", cap: text.slice(4) };
  if (text.includes("/")) {
    const [addrText, bitsText] = text.split("/");
    const addr = parseAddress(addrText);
    const width = addr.family === "ipv4" ? 32 : 128;
    if (!/^(0|[1-9]\d{0,2})$/.test(bitsText ?? "") || Number(bitsText) > width) throw new FilterFormError(`invalid prefix "${text}"`);
    const host = BigInt(width - Number(bitsText));
    if (addr.n & ((1n << host) - 1n)) throw new FilterFormError(`${text} contains non-network bits set`);
    return { kind: "addresses", ranges: [{ family: addr.family, first: addr.n, last: addr.n + (1n << host) - 1n }] };
  }
  if (text.split("-").length === 2) {
    const [a, b] = text.split("-").map(parseAddress);
    if (a.family !== b.family || a.n > b.n) throw new FilterFormError(`invalid IP range "${text}"`);
    return { kind: "addresses", ranges: [{ family: a.family, first: a.n, last: b.n }] };
  }
  const a = parseAddress(text);
  return { kind: "addresses", ranges: [{ family: a.family, first: a.n, last: a.n }] };
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
