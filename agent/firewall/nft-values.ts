// The constants of nft's JSON as the ruleset model holds them: addresses, numbers, names,
// prefixes, ranges, set and map elements, verdicts, and the named sets and maps of a table.
import { addressValue, PROTO_NUMBERS } from "./packet";
import type { Component, Element, NamedSet, SetSource, Statement, Verdict } from "./ruleset";
import { CT_BITS } from "./evaluate";
import { isObj, soleKey, Unmodelled, type Json, type Obj } from "./nft-shape";
import { renderValue } from "./nft-render";

export const SERVICES: Record<string, number> = { ssh: 22, domain: 53, http: 80, https: 443, ntp: 123, snmp: 161, "snmp-trap": 162, bootps: 67, bootpc: 68, dhcpv6_client: 546, "dhcpv6-client": 546, "dhcpv6-server": 547, smtp: 25, submission: 587, imaps: 993 };
export const NFPROTO: Record<string, number> = { ipv4: 2, ipv6: 10, ip: 2, ip6: 10 };

/** `name`: a word compared as it is (a fib route type: local, unicast, broadcast...). */
export type Kind = "addr4" | "addr6" | "num" | "proto" | "nfproto" | "ifname" | "ctstate" | "ctstatus" | "ethertype" | "name";

// include/uapi/linux/netfilter/nf_conntrack_common.h, enum ip_conntrack_status
const CT_STATUS_BITS: Record<string, bigint> = { expected: 1n, "seen-reply": 2n, assured: 4n, confirmed: 8n, snat: 16n, dnat: 32n, dying: 512n };

export function scalar(v: Json, kind: Kind): bigint | string {
  if (isObj(v) && "elem" in v) return scalar((v.elem as Obj).val, kind);
  switch (kind) {
    case "addr4": case "addr6": {
      const a = typeof v === "string" ? addressValue(v, kind === "addr4" ? "ipv4" : "ipv6") : null;
      if (a === null) throw new Unmodelled(`${JSON.stringify(v)} is not an ${kind === "addr4" ? "IPv4" : "IPv6"} address`);
      return a;
    }
    case "num":
      if (typeof v === "number" && Number.isInteger(v) && v >= 0) return BigInt(v);
      if (typeof v === "string" && /^(0x[0-9a-f]+|\d+)$/i.test(v)) return BigInt(v);
      if (typeof v === "string" && SERVICES[v] !== undefined) return BigInt(SERVICES[v]);
      throw new Unmodelled(`cannot read ${JSON.stringify(v)} as a number or service`);
    case "proto":
      if (typeof v === "number") return BigInt(v);
      if (typeof v === "string" && PROTO_NUMBERS[v] !== undefined) return BigInt(PROTO_NUMBERS[v]);
      throw new Unmodelled(`unknown protocol ${JSON.stringify(v)}`);
    case "nfproto":
      if (typeof v === "number") return BigInt(v);
      if (typeof v === "string" && NFPROTO[v] !== undefined) return BigInt(NFPROTO[v]);
      throw new Unmodelled(`unknown nfproto ${JSON.stringify(v)}`);
    case "ethertype":
      if (v === "ip" || v === 0x0800) return 2n;
      if (v === "ip6" || v === 0x86dd) return 10n;
      throw new Unmodelled(`meta protocol ${JSON.stringify(v)} is not modelled`);
    case "ctstate": {
      if (typeof v === "string" && CT_BITS[v] !== undefined) return CT_BITS[v];
      throw new Unmodelled(`unknown ct state ${JSON.stringify(v)}`);
    }
    case "ctstatus":
      if (typeof v === "string" && CT_STATUS_BITS[v] !== undefined) return CT_STATUS_BITS[v];
      if (typeof v === "number" && Number.isInteger(v) && v >= 0) return BigInt(v);
      throw new Unmodelled(`unknown ct status ${JSON.stringify(v)}`);
    case "name":
      if (typeof v === "string") return v;
      throw new Unmodelled(`${JSON.stringify(v)} is not a name`);
    case "ifname":
      if (typeof v === "string") return v;
      throw new Unmodelled(`interface ${JSON.stringify(v)} given by index`);
  }
}

export function component(v: Json, kind: Kind): Component {
  if (isObj(v) && "elem" in v) return component((v.elem as Obj).val, kind);
  if (isObj(v) && "prefix" in v) {
    const p = v.prefix as Obj;
    const bits = kind === "addr4" ? 32 : kind === "addr6" ? 128 : 0;
    if (!bits || typeof p.len !== "number" || p.len < 0 || p.len > bits) throw new Unmodelled(`bad prefix ${renderValue(v)}`);
    const base = scalar(p.addr, kind) as bigint;
    const host = (1n << BigInt(bits - p.len)) - 1n;
    return { lo: base & ~host, hi: (base & ~host) | host };
  }
  if (isObj(v) && "range" in v && Array.isArray(v.range)) {
    const lo = scalar(v.range[0], kind);
    const hi = scalar(v.range[1], kind);
    if (typeof lo !== "bigint" || typeof hi !== "bigint") throw new Unmodelled("range of names");
    return { lo, hi };
  }
  const s = scalar(v, kind);
  if (typeof s === "string") {
    // nft's wildcard: a trailing unescaped `*` matches any name with that prefix.
    if (s.endsWith("\\*")) return { name: s.slice(0, -2) + "*", wildcard: false };
    if (s.endsWith("*")) return { name: s.slice(0, -1), wildcard: true };
    return { name: s, wildcard: false };
  }
  return { lo: s, hi: s };
}

export function element(v: Json, kinds: Kind[]): Element {
  if (isObj(v) && "elem" in v) return element((v.elem as Obj).val, kinds);
  if (kinds.length > 1) {
    if (!isObj(v) || !Array.isArray(v.concat) || v.concat.length !== kinds.length) throw new Unmodelled(`element ${renderValue(v)} does not fit a ${kinds.length}-part key`);
    return v.concat.map((c, i) => component(c, kinds[i]));
  }
  return [component(v, kinds[0])];
}

// Verdicts and statements without operands are never changed once parsed: one object each.
export const SIMPLE_VERDICTS = {
  accept: { kind: "accept" },
  drop: { kind: "drop" },
  continue: { kind: "continue" },
  return: { kind: "return" },
} as const satisfies Record<string, Verdict>;
export const VERDICT_STATEMENTS = {
  accept: { kind: "verdict", verdict: SIMPLE_VERDICTS.accept },
  drop: { kind: "verdict", verdict: SIMPLE_VERDICTS.drop },
  continue: { kind: "verdict", verdict: SIMPLE_VERDICTS.continue },
  return: { kind: "verdict", verdict: SIMPLE_VERDICTS.return },
} as const satisfies Record<string, Statement>;
export const NOP: Statement = { kind: "nop" };

export function verdictOf(v: Json): Verdict {
  const k = soleKey(v);
  const body = (v as Obj)[k];
  switch (k) {
    case "accept": case "drop": case "continue": case "return": return SIMPLE_VERDICTS[k];
    case "jump": case "goto": {
      const target = (body as Obj)?.target;
      if (typeof target !== "string") throw new Unmodelled(`${k} without a target`);
      return { kind: k, target };
    }
    default: throw new Unmodelled(`verdict ${k} is not modelled`);
  }
}

/** Right-hand side of a match or the data of a vmap: inline elements or a named set. */
export function setSource(right: Json, kinds: Kind[], withVerdicts: boolean): SetSource {
  if (typeof right === "string" && right.startsWith("@")) return { ref: right.slice(1) };
  if (isObj(right) && "set" in right && Array.isArray(right.set)) {
    if (withVerdicts) {
      const pairs = right.set as Json[];
      return {
        elements: pairs.map((p) => { if (!Array.isArray(p) || p.length !== 2) throw new Unmodelled("map element is not a key : verdict pair"); return element(p[0], kinds); }),
        verdicts: pairs.map((p) => verdictOf((p as Json[])[1])),
      };
    }
    return { elements: right.set.map((e) => element(e, kinds)) };
  }
  if (withVerdicts) throw new Unmodelled("vmap data is neither a named map nor an inline one");
  // A list of flags (ct state established,related) is a set of bits.
  if (Array.isArray(right)) return { elements: right.map((e) => element(e, kinds)) };
  return { elements: [element(right, kinds)] };
}

export const SET_KINDS: Record<string, Kind> = { ipv4_addr: "addr4", ipv6_addr: "addr6", inet_service: "num", inet_proto: "proto", ifname: "ifname", iface_index: "ifname", mark: "num", ct_state: "ctstate", nf_proto: "nfproto" };

export function namedSet(o: Obj, isMap: boolean): NamedSet | { name: string; error: string } {
  const name = String(o.name);
  try {
    const types = (Array.isArray(o.type) ? o.type : [o.type]).map(String);
    const kinds = types.map((t) => { const k = SET_KINDS[t]; if (!k) throw new Unmodelled(`element type ${t} is not modelled`); return k; });
    const elems = Array.isArray(o.elem) ? o.elem : [];
    if (isMap) {
      if (o.map !== "verdict") throw new Unmodelled(`a map to ${String(o.map)} is not modelled`);
      return { name, elements: elems.map((p) => element((p as Json[])[0], kinds)), verdicts: elems.map((p) => verdictOf((p as Json[])[1])) };
    }
    return { name, elements: elems.map((e) => element(e, kinds)) };
  } catch (e) {
    return { name, error: (e as Error).message };
  }
}
