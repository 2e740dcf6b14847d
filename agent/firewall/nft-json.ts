// Reads `nft -j list ruleset` (libnftables-json schema version 1) into the ruleset model. A rule
// the model cannot express keeps its place and becomes an `unknown` statement, so the evaluator
// names it if a packet reaches it; input that is not such a document at all is a RulesetError.
import { addressValue, PROTO_NUMBERS } from "./packet";
import { addChain, chainKey, emptyRuleset, RulesetError, type Chain, type Component, type Element, type Hook, type Key, type NamedSet, type Rule, type Ruleset, type SetSource, type Statement, type Verdict } from "./ruleset";
import { CT_BITS } from "./evaluate";

type Json = unknown;
type Obj = Record<string, Json>;

/** Something inside one rule that the model cannot express: the rule becomes unknown. */
class Unmodelled extends Error {}

const HOOKS = new Set<Hook>(["ingress", "prerouting", "input", "forward", "output", "postrouting", "egress"]);
const PORT_PROTOS = [6, 17, 33, 132, 136];
/** Payload protocols that are transport headers: their implicit dependency is meta l4proto. */
const L4_HEADERS: Record<string, number[]> = { udp: [17], tcp: [6], th: PORT_PROTOS, icmp: [1], icmpv6: [58], sctp: [132], dccp: [33], udplite: [136], esp: [50], ah: [51], comp: [108], igmp: [2] };
/** Transport headers that have ports (th: any of them). */
const PORT_HEADERS = new Set(Object.keys(L4_HEADERS).filter((h) => L4_HEADERS[h].some((p) => PORT_PROTOS.includes(p))));
const SERVICES: Record<string, number> = { ssh: 22, domain: 53, http: 80, https: 443, ntp: 123, snmp: 161, "snmp-trap": 162, bootps: 67, bootpc: 68, dhcpv6_client: 546, "dhcpv6-client": 546, "dhcpv6-server": 547, smtp: 25, submission: 587, imaps: 993 };
const NFPROTO: Record<string, number> = { ipv4: 2, ipv6: 10, ip: 2, ip6: 10 };

type Kind = "addr4" | "addr6" | "num" | "proto" | "nfproto" | "ifname" | "ctstate" | "ethertype";

function isObj(v: Json): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The one key of an expression object (`{"payload": {...}}`): nft's JSON tags each that way. */
function soleKey(v: Json): string {
  if (!isObj(v)) throw new Unmodelled(`unexpected ${JSON.stringify(v)?.slice(0, 60)}`);
  // for-in rather than Object.keys: this runs for every expression of every rule.
  let key: string | undefined;
  for (const k in v) {
    if (key !== undefined) throw new Unmodelled(`unexpected object with keys ${Object.keys(v).join(",")}`);
    key = k;
  }
  if (key === undefined) throw new Unmodelled("unexpected empty object");
  return key;
}

function only(v: Json): [string, Json] {
  const key = soleKey(v);
  return [key, (v as Obj)[key]];
}

// ---- rendering (the rule as nft prints it, for traces) ----

const BARE_META = new Set(["iifname", "oifname", "iif", "oif"]);

function renderValue(v: Json): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "";
  if (Array.isArray(v)) return v.map(renderValue).join(",");
  const [k, body] = only(v);
  const b = body as Obj;
  switch (k) {
    case "payload": return b.protocol !== undefined ? `${b.protocol} ${b.field}` : `@payload,${b.base},${b.offset},${b.len}`;
    // nft prints these four meta keys bare.
    case "meta": return BARE_META.has(String(b.key)) ? String(b.key) : `meta ${b.key}`;
    case "ct": return `ct ${b.key}`;
    case "set": return `{ ${(body as Json[]).map((e) => (Array.isArray(e) ? `${renderValue(e[0])} : ${renderValue(e[1])}` : renderValue(e))).join(", ")} }`;
    case "prefix": return `${b.addr}/${b.len}`;
    case "range": return `${renderValue((body as Json[])[0])}-${renderValue((body as Json[])[1])}`;
    case "concat": return (body as Json[]).map(renderValue).join(" . ");
    case "elem": return renderValue(b.val);
    case "&": case "|": case "^": case "<<": case ">>": return (body as Json[]).map(renderValue).join(` ${k} `);
    case "fib": return `fib ${(Array.isArray(b.flags) ? b.flags : [b.flags]).map(renderValue).join(" . ")} ${b.result}`;
    case "jump": case "goto": return `${k} ${b.target}`;
    default: return body === null ? k : `${k} ${JSON.stringify(body)}`;
  }
}

function renderStatement(s: Json): string {
  const [k, body] = only(s);
  const b = (body ?? {}) as Obj;
  switch (k) {
    case "match": {
      const binop = isObj(b.left) && ("&" in b.left || "|" in b.left);
      const op = (b.op === undefined || b.op === "==" || b.op === "in") && !binop ? "" : `${b.op ?? "=="} `;
      if (b.right === false && isObj(b.left) && "fib" in b.left) return `${renderValue(b.left)} ${op}missing`;
      const right = typeof b.right === "string" && isObj(b.left) && "meta" in b.left && /name$/.test(String((b.left.meta as Obj).key)) ? `"${b.right}"` : renderValue(b.right);
      return `${renderValue(b.left)} ${op}${right}`;
    }
    case "counter": return "counter";
    case "log": return b.prefix !== undefined ? `log prefix "${b.prefix}"` : "log";
    case "limit": return `limit rate ${b.inv ? "over " : ""}${b.rate}/${b.per ?? "second"}`;
    case "mangle": return `${renderValue(b.key)} set ${renderValue(b.value)}`;
    case "vmap": return `${renderValue(b.key)} vmap ${renderValue(b.data)}`;
    case "xt": return `xt ${b.type} "${b.name}"`;
    case "reject": return b.type === "icmp" ? "meta nfproto ipv4 reject" : b.type === "icmpv6" ? "meta nfproto ipv6 reject" : b.type === "tcp reset" ? "reject with tcp reset" : "reject";
    default: return body === null ? k : renderValue(s);
  }
}

export function renderRule(expr: Json[]): string {
  return expr.map((s) => { try { return renderStatement(s); } catch { return JSON.stringify(s)?.slice(0, 80) ?? "?"; } }).join(" ") || "(empty rule)";
}

// ---- constants ----

function scalar(v: Json, kind: Kind): bigint | string {
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
    case "ifname":
      if (typeof v === "string") return v;
      throw new Unmodelled(`interface ${JSON.stringify(v)} given by index`);
  }
}

function component(v: Json, kind: Kind): Component {
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

function element(v: Json, kinds: Kind[]): Element {
  if (isObj(v) && "elem" in v) return element((v.elem as Obj).val, kinds);
  if (kinds.length > 1) {
    if (!isObj(v) || !Array.isArray(v.concat) || v.concat.length !== kinds.length) throw new Unmodelled(`element ${renderValue(v)} does not fit a ${kinds.length}-part key`);
    return v.concat.map((c, i) => component(c, kinds[i]));
  }
  return [component(v, kinds[0])];
}

// Verdicts and statements without operands are never changed once parsed: one object each.
const SIMPLE_VERDICTS = {
  accept: { kind: "accept" },
  drop: { kind: "drop" },
  continue: { kind: "continue" },
  return: { kind: "return" },
} as const satisfies Record<string, Verdict>;
const VERDICT_STATEMENTS = {
  accept: { kind: "verdict", verdict: SIMPLE_VERDICTS.accept },
  drop: { kind: "verdict", verdict: SIMPLE_VERDICTS.drop },
  continue: { kind: "verdict", verdict: SIMPLE_VERDICTS.continue },
  return: { kind: "verdict", verdict: SIMPLE_VERDICTS.return },
} as const satisfies Record<string, Statement>;
const NOP: Statement = { kind: "nop" };

function verdictOf(v: Json): Verdict {
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
function setSource(right: Json, kinds: Kind[], withVerdicts: boolean): SetSource {
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

// ---- expressions ----

/** The key(s) a left-hand side reads, plus the implicit dependency matches nft adds for them. */
/** In a table of several families, reading an IP header implies meta nfproto. */
function familyDep(tableFamily: string, family: "ipv4" | "ipv6"): "ipv4" | "ipv6" | undefined {
  return tableFamily === "inet" || tableFamily === "bridge" || tableFamily === "netdev" ? family : undefined;
}

/** What a left-hand side reads: its key(s), and the kind of constant each is compared with. */
interface Read {
  keys: Key[];
  kinds: Kind[];
}

/**
 * Rulesets read the same few fields over and over: one Read per field, shared by every rule
 * (never changed after parsing).
 */
const sharedReads = new Map<string, Map<string, Read>>();

function shared(group: string, name: string, field: Key["field"], kind: Kind, family?: "ipv4" | "ipv6", l4?: number[]): Read {
  let byName = sharedReads.get(group);
  if (!byName) sharedReads.set(group, (byName = new Map()));
  let read = byName.get(name);
  if (!read) {
    const key: Key = { field };
    if (family) key.family = family;
    if (l4) key.l4 = l4;
    byName.set(name, (read = { keys: [key], kinds: [kind] }));
  }
  return read;
}

/** The key(s) a left-hand side reads; what is returned is shared and must not be changed. */
function keysOf(left: Json, tableFamily: string, deps?: Statement[]): Read {
  const k = soleKey(left);
  const body = (left as Obj)[k];
  const b = body as Obj;
  switch (k) {
    case "concat": {
      const parts = (body as Json[]).map((part) => keysOf(part, tableFamily, deps));
      return { keys: parts.flatMap((p) => p.keys), kinds: parts.flatMap((p) => p.kinds) };
    }
    case "&": {
      const [inner, mask] = body as Json[];
      const { keys, kinds } = keysOf(inner, tableFamily, deps);
      if (keys.length !== 1 || keys[0].field !== "mark" || typeof mask !== "number") throw new Unmodelled("a bitwise and on anything but meta mark is not modelled");
      return { keys: [{ ...keys[0], mask: BigInt(mask) }], kinds };
    }
    case "payload": {
      const proto = String(b.protocol);
      const field = String(b.field);
      if (proto === "ip" || proto === "ip6") {
        const family = proto === "ip" ? "ipv4" : "ipv6";
        if (field === "saddr" || field === "daddr") return shared(proto, field, field, family === "ipv4" ? "addr4" : "addr6", family);
        if (field === "protocol" || field === "nexthdr") return shared(proto, field, "l4proto", "proto", family);
        if (familyDep(tableFamily, family)) deps?.push({ kind: "match", keys: [{ field: "nfproto" }], op: "in", set: { elements: [[{ lo: family === "ipv4" ? 2n : 10n, hi: family === "ipv4" ? 2n : 10n }]] } });
        throw new Unmodelled(`${proto} ${field} is not modelled`);
      }
      const l4 = L4_HEADERS[proto];
      if (l4) {
        if ((field === "sport" || field === "dport") && PORT_HEADERS.has(proto)) return shared(proto, field, field, "num", undefined, l4);
        deps?.push({ kind: "match", keys: [{ field: "l4proto" }], op: "in", set: { elements: l4.map((p) => [{ lo: BigInt(p), hi: BigInt(p) }]) } });
        throw new Unmodelled(`${proto} ${field} is not modelled`);
      }
      throw new Unmodelled(`payload ${renderValue(left)} is not modelled`);
    }
    case "meta": {
      const key = String(b.key);
      switch (key) {
        case "l4proto": return shared("meta", key, "l4proto", "proto");
        case "nfproto": return shared("meta", key, "nfproto", "nfproto");
        case "protocol": return shared("meta", key, "nfproto", "ethertype");
        case "iifname": case "oifname": case "iif": case "oif": return shared("meta", key, key, "ifname");
        case "mark": return shared("meta", key, "mark", "num");
        default: throw new Unmodelled(`meta ${key} is not modelled`);
      }
    }
    case "ct":
      if (b.key === "state" && b.dir === undefined) return shared("ct", "state", "ctstate", "ctstate");
      throw new Unmodelled(`ct ${b.key} is not modelled`);
    case "fib": throw new Unmodelled("fib (a routing lookup) is not modelled");
    default: throw new Unmodelled(`${k} expressions are not modelled`);
  }
}

/** A right-hand side that is one value, prefix or range (not a set, a list or a set's name). */
function isSingle(right: Json): boolean {
  if (Array.isArray(right)) return false;
  if (isObj(right)) return !("set" in right);
  return !(typeof right === "string" && right.startsWith("@"));
}

function matchStatement(m: Obj, tableFamily: string, out: Statement[]): void {
  // Dependencies are only found on the way to a throw; compileElement collects them then.
  const { keys, kinds } = keysOf(m.left, tableFamily);
  const op = m.op === undefined ? "==" : String(m.op);
  const right = m.right;
  if (keys.length === 1 && (op === "==" || op === "in" || op === "!=") && typeof right !== "boolean" && isSingle(right)) {
    out.push({ kind: "test", key: keys[0], component: component(right, kinds[0]), negate: op === "!=" });
    return;
  }
  if (kinds.includes("ctstate") && op === "==" && !Array.isArray(right) && !(isObj(right) && "set" in right)) {
    out.push({ kind: "match", keys, op: "in", set: setSource(right, kinds, false) });
    return;
  }
  if (typeof right === "boolean") throw new Unmodelled("a boolean comparison is not modelled");
  switch (op) {
    case "==": case "in": out.push({ kind: "match", keys, op: "in", set: setSource(right, kinds, false) }); return;
    case "!=": out.push({ kind: "match", keys, op: "notin", set: setSource(right, kinds, false) }); return;
    case "<": case ">": case "<=": case ">=": {
      if (keys.length !== 1 || kinds[0] === "ifname" || kinds[0] === "ctstate") throw new Unmodelled(`${op} on this key is not modelled`);
      out.push({ kind: "match", keys, op, set: { elements: [[component(right, kinds[0])]] } });
      return;
    }
    default: throw new Unmodelled(`operator ${op} is not modelled`);
  }
}

/** Header fields that lie next to each other, so nft can load them as one. */
const ADJACENT_FIELDS: Record<string, [string, string]> = {
  udp: ["sport", "dport"],
  tcp: ["sport", "dport"],
  th: ["sport", "dport"],
  ip: ["saddr", "daddr"],
  ip6: ["saddr", "daddr"],
};

function singleInequality(s: Json): { protocol: string; field: string } | null {
  if (!isObj(s) || !isObj(s.match)) return null;
  const m = s.match as Obj;
  const left = isObj(m.left) && isObj(m.left.payload) ? (m.left.payload as Obj) : null;
  if (m.op !== "!=" || !left || typeof left.protocol !== "string" || typeof left.field !== "string") return null;
  if (isObj(m.right) || Array.isArray(m.right)) return null;
  return { protocol: left.protocol, field: left.field };
}

/**
 * nft (1.0.6, Debian 12) merges two `!=` matches on adjacent fields of one header (udp sport
 * and dport, ip saddr and daddr) into one comparison of both fields together, which matches
 * when EITHER differs, yet lists them back as two matches, which read as "both differ". The
 * kernel comparison found it; the JSON cannot say which was loaded, so such a pair is unknown.
 */
function mergedInequalityAt(expr: Json[], i: number): string | null {
  const a = singleInequality(expr[i]);
  const b = i + 1 < expr.length ? singleInequality(expr[i + 1]) : null;
  if (!a || !b || a.protocol !== b.protocol) return null;
  const pair = ADJACENT_FIELDS[a.protocol];
  if (!pair || a.field === b.field || !pair.includes(a.field) || !pair.includes(b.field)) return null;
  return `${a.protocol} ${a.field} != ... ${b.protocol} ${b.field} != ...: nft may have merged these into one comparison that matches when either differs; not decidable from the listing`;
}

const EMPTY: Obj = Object.freeze({});

/** The statements one element of a rule's `expr` makes, appended to `out`; throws Unmodelled. */
function statementOf(s: Json, tableFamily: string, out: Statement[]): void {
  const k = soleKey(s);
  const b = ((s as Obj)[k] ?? EMPTY) as Obj;
  switch (k) {
    case "match": matchStatement(b, tableFamily, out); break;
    case "accept": case "drop": case "continue": case "return": out.push(VERDICT_STATEMENTS[k]); break;
    case "jump": case "goto": out.push({ kind: "verdict", verdict: verdictOf(s) }); break;
    case "reject": {
      // nft lists `meta nfproto ipv4 ... reject` without the match: the reject's type carries it.
      const type = String(b.type ?? "");
      const nfproto = type === "icmp" ? 2n : type === "icmpv6" ? 10n : null;
      if (nfproto !== null && tableFamily !== "ip" && tableFamily !== "ip6")
        out.push({ kind: "match", keys: [{ field: "nfproto" }], op: "in", set: { elements: [[{ lo: nfproto, hi: nfproto }]] } });
      if (type === "tcp reset") out.push({ kind: "match", keys: [{ field: "l4proto" }], op: "in", set: { elements: [[{ lo: 6n, hi: 6n }]] } });
      out.push({ kind: "verdict", verdict: { kind: "reject" } });
      break;
    }
    case "counter": case "log": case "comment": case "dup": case "flow": out.push(NOP); break;
    case "limit": out.push(b.inv ? { kind: "never" } : NOP); break;
    case "notrack": out.push({ kind: "notrack" }); break;
    case "snat": case "masquerade": out.push({ kind: "srcnat" }); break;
    case "vmap": {
      const deps: Statement[] = [];
      try {
        const { keys, kinds } = keysOf(b.key, tableFamily, deps);
        out.push(...deps, { kind: "vmap", keys, set: setSource(b.data, kinds, true) });
      } catch (e) { out.push(...deps); throw e; }
      break;
    }
    case "mangle": {
      const key = b.key;
      if (isObj(key) && isObj(key.meta) && key.meta.key === "mark") {
        if (typeof b.value !== "number") throw new Unmodelled("meta mark set from a non-constant is not modelled");
        out.push({ kind: "setmark", value: BigInt(b.value) });
      } else if (isObj(key) && ("ct" in key || (isObj(key.meta) && ["priority", "nftrace"].includes(String(key.meta.key))))) {
        out.push({ kind: "nop" }); // fields no modelled match reads
      } else throw new Unmodelled(`${renderStatement(s)} changes the packet in a way that is not modelled`);
      break;
    }
    case "xt": throw new Unmodelled(`an iptables-nft compat expression (xt ${b.type} ${b.name}) lists without its parameters; read iptables-nft-save instead`);
    case "dnat": case "redirect": throw new Unmodelled(`${k} changes the destination, which is not modelled`);
    default: throw new Unmodelled(`the ${k} statement is not modelled`);
  }
}

function requireString(o: Obj, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== "string" || v === "") throw new RulesetError(`${what} has no "${key}"`);
  return v;
}

const SET_KINDS: Record<string, Kind> = { ipv4_addr: "addr4", ipv6_addr: "addr6", inet_service: "num", inet_proto: "proto", ifname: "ifname", iface_index: "ifname", mark: "num", ct_state: "ctstate", nf_proto: "nfproto" };

function namedSet(o: Obj, isMap: boolean): NamedSet | { name: string; error: string } {
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

interface CompileContext {
  sets: Map<string, NamedSet>;
  /** Sets the model cannot express, with the reason: a rule reading one is unknown there. */
  brokenSets: Map<string, string>;
}

/**
 * A rule of the listing, turned into statements only as far as packets get through it: a
 * daemon cycle asks a handful of packets, which never reach most rules of a big ruleset (user
 * chains they do not jump to) and leave most others at their first match (`ip6 daddr ...` for
 * an IPv4 packet). Its text is rendered only for a trace.
 */
class NftRule implements Rule {
  private compiled: Statement[] = NONE;
  /** The next element of `expr` to compile, or -1 once the rule is complete. */
  private next = 0;
  private rendered?: string;
  constructor(readonly handle: number, private readonly expr: Json[], private readonly chain: Chain, private readonly context: CompileContext) {}

  get text(): string {
    return (this.rendered ??= renderRule(this.expr));
  }

  statementAt(i: number): Statement | undefined {
    while (i >= this.compiled.length && this.next >= 0) this.compileNext();
    return this.compiled[i];
  }

  get statements(): Statement[] {
    while (this.next >= 0) this.compileNext();
    return this.compiled;
  }

  private compileNext(): void {
    if (this.next >= this.expr.length) { this.next = -1; return; }
    const i = this.next++;
    // Kept arrays are allocated at their size (a pushed-to empty array reserves 17 slots), and
    // the scratch array is emptied by popping, which keeps its room for the next rule.
    try {
      const last = compileElement(this.expr, i, this.chain, this.context, piece);
      this.compiled = this.compiled === NONE ? piece.slice() : this.compiled.concat(piece);
      if (last) this.next = -1;
    } catch (e) {
      this.next = i; // never skip an element: the next evaluation meets the same error
      throw e;
    } finally {
      while (piece.length > 0) piece.pop();
    }
  }
}

const NONE: Statement[] = Object.freeze([]) as unknown as Statement[];
/** Where compileElement puts one element's statements before they are copied to the rule. */
const piece: Statement[] = [];

/**
 * Appends the statements of element i of a rule's `expr`. What the model cannot express ends
 * the rule with an `unknown` statement (true is returned): the matches before it, and the
 * implicit dependencies of the element itself, still decide whether a packet gets that far.
 */
function compileElement(expr: Json[], i: number, chain: Chain, context: CompileContext, out: Statement[]): boolean {
  const merged = mergedInequalityAt(expr, i);
  if (merged) { out.push({ kind: "unknown", reason: merged }); return true; }
  const { family, table } = chain;
  const start = out.length;
  try {
    statementOf(expr[i], family, out);
  } catch (e) {
    if (!(e instanceof Unmodelled) && !(e instanceof RangeError) && !(e instanceof TypeError)) throw e;
    out.length = start;
    // Dependencies found before the failure (l4proto of icmpv6 type) still filter.
    const deps: Statement[] = [];
    try { const s = expr[i]; const k = soleKey(s); if (k === "match") keysOf(((s as Obj)[k] as Obj).left, family, deps); } catch { /* deps collected */ }
    out.push(...deps, { kind: "unknown", reason: (e as Error).message });
    return true;
  }
  for (let at = start; at < out.length; at++) {
    const st = out[at];
    if ((st.kind !== "match" && st.kind !== "vmap") || !("ref" in st.set)) continue;
    const key = chainKey("nft", family, table, st.set.ref);
    const broken = context.brokenSets.get(key);
    if (broken !== undefined) {
      out.length = at;
      out.push({ kind: "unknown", reason: `set @${st.set.ref}: ${broken}` });
      return true;
    }
    st.set.resolved = context.sets.get(key);
  }
  return false;
}

/** Parses the text of `nft -j list ruleset`. */
export function parseNftJson(text: string): Ruleset {
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new RulesetError(`not valid JSON (${(e as Error).message}): is it the output of \`nft -j list ruleset\`, complete?`);
  }
  if (!isObj(doc) || !Array.isArray(doc.nftables)) throw new RulesetError('no "nftables" array at the top: not the output of `nft -j list ruleset`');
  const items = doc.nftables as Json[];
  const ruleset = emptyRuleset();
  const brokenSets = new Map<string, string>();
  const context: CompileContext = { sets: ruleset.sets, brokenSets };
  for (const item of items) {
    if (!isObj(item)) throw new RulesetError(`an entry of "nftables" is not an object: ${JSON.stringify(item)?.slice(0, 60)}`);
    if (isObj(item.metainfo)) {
      const version = item.metainfo.json_schema_version;
      if (version !== undefined && version !== 1) throw new RulesetError(`JSON schema version ${JSON.stringify(version)} is not supported (edge-agent reads version 1, as nftables 0.9.1 to 1.1 print)`);
    } else if (isObj(item.chain)) {
      const c = item.chain;
      const what = `chain ${JSON.stringify(c.name)}`;
      const chain: Chain = { family: requireString(c, "family", what), table: requireString(c, "table", what), name: requireString(c, "name", what), source: "nft", rules: [] };
      if (c.hook !== undefined) {
        if (!HOOKS.has(c.hook as Hook)) throw new RulesetError(`${what} hooks ${JSON.stringify(c.hook)}, which is not a netfilter hook`);
        if (typeof c.prio !== "number") throw new RulesetError(`base ${what} has no numeric "prio"`);
        const policy = c.policy ?? "accept";
        if (policy !== "accept" && policy !== "drop") throw new RulesetError(`${what} has policy ${JSON.stringify(policy)}`);
        const dev = c.dev === undefined ? undefined : (Array.isArray(c.dev) ? c.dev : [c.dev]).map(String);
        chain.base = { type: String(c.type ?? "filter"), hook: c.hook as Hook, prio: c.prio, policy, device: dev };
      }
      addChain(ruleset, chain);
    } else if (isObj(item.set) || isObj(item.map)) {
      const o = (item.set ?? item.map) as Obj;
      const set = namedSet(o, isObj(item.map));
      const key = chainKey("nft", String(o.family), String(o.table), String(o.name));
      if ("error" in set) brokenSets.set(key, set.error);
      else ruleset.sets.set(key, set);
    }
  }
  // Rules come grouped by chain: look the chain up once per run of rules, not once per rule.
  let last: Chain | undefined;
  for (const item of items) {
    if (!isObj(item) || !isObj(item.rule)) continue;
    const r = item.rule;
    const family = r.family;
    const table = r.table;
    const chainName = r.chain;
    let chain = last;
    if (!chain || chain.family !== family || chain.table !== table || chain.name !== chainName) {
      const what = `rule ${JSON.stringify(r.handle)}`;
      requireString(r, "family", what);
      requireString(r, "table", what);
      requireString(r, "chain", what);
      chain = ruleset.byName.get(chainKey("nft", family as string, table as string, chainName as string));
      if (!chain) throw new RulesetError(`${what} is in chain ${family} ${table} ${chainName}, which is not listed`);
      last = chain;
    }
    const expr = Array.isArray(r.expr) ? r.expr : [];
    chain.rules.push(new NftRule(typeof r.handle === "number" ? r.handle : chain.rules.length + 1, expr, chain, context));
  }
  return ruleset;
}
