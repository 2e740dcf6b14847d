// The verdict netfilter gives one packet, decided from a ruleset without sending anything:
// each hook of the packet's path in turn, every base chain on it in priority order (across
// tables, families and the legacy iptables tables), accept ending only its own base chain and
// drop/reject ending everything. What cannot be decided stops with `unknown`, never a guess.
import { PROTO_NUMBERS, type Packet } from "./packet";
import { chainKey, verdictText, type Chain, type Elements, type Hook, type Key, type Rule, type Ruleset, type SetSource, type Statement, type Verdict } from "./ruleset";
import { componentHas, findElement, type Value } from "./set-lookup";
import { addressType, reverseRouteDevice, rpfilterPasses, xtAddrtypeMatches, type Answer, type HostView } from "./host-view";
import { candidates, classKey, type FixedField, type PacketClass } from "./rule-guard";

export interface TraceStep {
  family: string;
  table: string;
  chain: string;
  /** The rule's handle, or null for a chain's policy. */
  handle: number | null;
  rule: string;
  result: string;
  /** Set for chains that are not nft's (iptables-legacy). */
  source?: string;
}

export interface Decision {
  verdict: "accept" | "drop" | "unknown";
  trace: TraceStep[];
  /** The rule (or policy) that decided, as one line. */
  decidedBy: string;
  /** Why the verdict is unknown. */
  reason?: string;
  /** Set when a rule on the packet's path read a length: another size may be judged otherwise. */
  readLength?: boolean;
}

const HOOKS: Record<Packet["direction"], Hook[]> = {
  in: ["ingress", "prerouting", "input"],
  out: ["output", "postrouting", "egress"],
  forward: ["ingress", "prerouting", "forward", "postrouting", "egress"],
};

/** The hook whose chains say most about the question (filter chains live there). */
const MAIN_HOOK: Record<Packet["direction"], Hook> = { in: "input", out: "output", forward: "forward" };

// include/uapi/linux/netfilter/nf_conntrack_common.h
export const CT_BITS: Record<string, bigint> = { invalid: 1n, established: 2n, related: 4n, new: 8n, untracked: 64n };
/** NF_IP_PRI_CONNTRACK: chains before it run before the packet gets its conntrack entry. */
const PRI_CONNTRACK = -200;
/** Far more than any real ruleset needs; reaching it means a loop in hand-made input. */
const MAX_JUMP_DEPTH = 64;
const MAX_RULE_VISITS = 1_000_000;
/** A trace longer than this is cut: it is for reading, and a loop would make it endless. */
const MAX_TRACE = 10_000;

interface PacketState {
  ct: bigint;
  mark: bigint;
}

const NOMATCH = Symbol("nomatch");
class Undecidable {
  constructor(readonly reason: string) {}
}

function familiesFor(packet: Packet): Set<string> {
  return new Set(packet.family === "ipv4" ? ["ip", "inet", "netdev"] : ["ip6", "inet", "netdev"]);
}

const hookCache = new WeakMap<Ruleset, Map<Hook, Chain[]>>();

/** Base chains per hook, lowest priority first; equal priorities keep the input's order. */
function chainsByHook(ruleset: Ruleset): Map<Hook, Chain[]> {
  let cached = hookCache.get(ruleset);
  if (!cached) {
    cached = new Map();
    const indexed = ruleset.chains.map((chain, index) => ({ chain, index })).filter((c) => c.chain.base);
    indexed.sort((a, b) => a.chain.base!.prio - b.chain.base!.prio || a.index - b.index);
    for (const { chain } of indexed) {
      const list = cached.get(chain.base!.hook) ?? [];
      list.push(chain);
      cached.set(chain.base!.hook, list);
    }
    hookCache.set(ruleset, cached);
  }
  return cached;
}

/** The packet's fields as the integers rules compare them with, converted once per packet. */
interface Fields {
  proto: number;
  l4proto: bigint;
  nfproto: bigint;
  sport: bigint;
  dport: bigint;
}

function fieldsOf(packet: Packet): Fields {
  const proto = PROTO_NUMBERS[packet.proto];
  return { proto, l4proto: BigInt(proto), nfproto: packet.family === "ipv4" ? 2n : 10n, sport: BigInt(packet.sport), dport: BigInt(packet.dport) };
}

function read(key: Key, ev: Evaluation, hook: Hook): Value | typeof NOMATCH | Undecidable {
  const { packet, fields, state } = ev;
  if (key.family && key.family !== packet.family) return NOMATCH;
  if (key.l4 && !key.l4.includes(fields.proto)) return NOMATCH;
  switch (key.field) {
    case "l4proto": return fields.l4proto;
    case "nfproto": return fields.nfproto;
    case "saddr": return packet.saddrValue;
    case "daddr": return packet.daddrValue;
    case "sport": return fields.sport;
    case "dport": return fields.dport;
    case "mark": return key.mask === undefined ? state.mark : state.mark & key.mask;
    // Before conntrack has seen it a packet has no entry, which ct state reads as invalid.
    case "ctstate":
      if (key.natStatusBeside !== undefined && ev.ctAssigned && state.ct !== CT_BITS.new && state.ct !== CT_BITS.untracked && (state.ct & key.natStatusBeside) === 0n)
        return new Undecidable("the SNAT/DNAT status of a connection past its first packet is not modelled");
      return state.ct === CT_BITS.untracked || ev.ctAssigned ? state.ct : CT_BITS.invalid;
    // ct status needs a conntrack entry (none before conntrack or when untracked: the match
    // fails); a new connection's first packet has no status bit set yet.
    case "ctstatus":
      if (state.ct === CT_BITS.untracked || !ev.ctAssigned) return NOMATCH;
      return state.ct === CT_BITS.new ? 0n : new Undecidable("ct status of a connection past its first packet is not modelled");
    case "addrtype": return answered(addressType(packet, key.addr!, ev.host));
    case "fibsaddr": return answered(reverseRouteDevice(packet, key.viaIif ? "fib-iif" : "best", ev.host));
    case "rpfilter": return asBit(answered(rpfilterPasses(packet, key.loose === true, ev.host)));
    case "xtaddrtype": return asBit(answered(xtAddrtypeMatches(packet, key.addr!, key.types!, ev.host)));
    case "length": {
      ev.readLength = true;
      return lengthOf(key.lengthOf!, packet, hook);
    }
    case "iifname":
    case "iif": {
      // Locally generated packets have no input device: the kernel reads an empty name.
      if (packet.direction === "out") return "";
      return packet.iif ?? new Undecidable(`it matches on ${key.field} and the packet has no input interface (give --iif)`);
    }
    case "oifname":
    case "oif": {
      // Before routing (ingress, prerouting) and for local delivery there is no output device.
      if (packet.direction === "in" || hook === "prerouting" || hook === "ingress") return "";
      return packet.oif ?? new Undecidable(`it matches on ${key.field} and the packet has no output interface (give --oif)`);
    }
  }
}

/** IPv4 and IPv6 fixed headers: the datagrams asked about carry no options or extension headers. */
const IP_HEADER = { ipv4: 20, ipv6: 40 } as const;
const UDP_HEADER = 8;

/** A length as the kernel reads it for the packet's UDP payload size. */
function lengthOf(of: "udp" | "ip" | "ip6" | "meta", packet: Packet, hook: Hook): bigint | Undecidable {
  if (packet.proto !== "udp") return new Undecidable("a length match on a TCP packet is not modelled (its header size varies)");
  if (packet.length === undefined) return new Undecidable("it matches on a length and the packet has none (give --length, the UDP payload in bytes)");
  const udp = UDP_HEADER + packet.length;
  switch (of) {
    case "udp": return BigInt(udp);
    case "ip6": return BigInt(udp);
    case "ip": return BigInt(IP_HEADER.ipv4 + udp);
    // The skb holds the link-layer header too when it leaves through egress.
    case "meta": return hook === "egress" ? new Undecidable("meta length at egress counts the link-layer header, which is not modelled") : BigInt(IP_HEADER[packet.family] + udp);
  }
}

function asBit(b: boolean | Undecidable): bigint | Undecidable {
  return typeof b === "boolean" ? (b ? 1n : 0n) : b;
}

function answered<T>(a: Answer<T>): T | Undecidable {
  return "undecidable" in a ? new Undecidable(a.undecidable) : a.value;
}

interface Evaluation {
  ruleset: Ruleset;
  /** The host's addresses and routes, for addrtype, fib and rpfilter; absent for a saved ruleset. */
  host?: HostView;
  packet: Packet;
  fields: Fields;
  state: PacketState;
  trace: TraceStep[];
  visits: number;
  /** False in chains that run before conntrack (ingress; prerouting/output below -200). */
  ctAssigned: boolean;
  /** Some rule read a length: the verdict may depend on the packet's size. */
  readLength: boolean;
  /** Set for a batch: rules the packet's class cannot match are skipped (rule-guard.ts). */
  packetClass?: PacketClass;
  /** The packet's fields that rules are sorted out by. */
  fixed?: Record<FixedField, Value | undefined>;
}

function resolveSet(ev: Evaluation, chain: Chain, source: SetSource): Elements | Undecidable {
  if (!("ref" in source)) return source;
  if (source.resolved) return source.resolved;
  const set = ev.ruleset.sets.get(chainKey(chain.source, chain.family, chain.table, source.ref));
  return set ?? new Undecidable(`set @${source.ref} does not exist in table ${chain.family} ${chain.table}`);
}

function readKeys(keys: Key[], ev: Evaluation, hook: Hook): Value[] | typeof NOMATCH | Undecidable {
  if (keys.length === 1) {
    const v = read(keys[0], ev, hook);
    return v === NOMATCH || v instanceof Undecidable ? v : [v];
  }
  const values: Value[] = [];
  for (const key of keys) {
    const v = read(key, ev, hook);
    if (v === NOMATCH || v instanceof Undecidable) return v;
    values.push(v);
  }
  return values;
}

type RuleOutcome = typeof NOMATCH | Undecidable | Verdict | null;

function evalRule(rule: Rule, chain: Chain, base: Chain, hook: Hook, ev: Evaluation): RuleOutcome {
  const all = rule.statementAt ? undefined : rule.statements;
  for (let i = 0; ; i++) {
    const st = all ? all[i] : rule.statementAt!(i);
    if (st === undefined) break;
    switch (st.kind) {
      case "match": {
        const values = readKeys(st.keys, ev, hook);
        if (values === NOMATCH || values instanceof Undecidable) return values;
        const set = resolveSet(ev, chain, st.set);
        if (set instanceof Undecidable) return set;
        if (!matches(st, set.elements, values)) return NOMATCH;
        break;
      }
      case "test": {
        const v = read(st.key, ev, hook);
        if (v === NOMATCH || v instanceof Undecidable) return v;
        if (componentHas(st.component, v) === st.negate) return NOMATCH;
        break;
      }
      case "vmap": {
        const values = readKeys(st.keys, ev, hook);
        if (values === NOMATCH || values instanceof Undecidable) return values;
        const set = resolveSet(ev, chain, st.set);
        if (set instanceof Undecidable) return set;
        if (!set.verdicts) return new Undecidable("its map is not a verdict map");
        const i = findElement(set.elements, values);
        if (i < 0) return NOMATCH;
        return set.verdicts[i];
      }
      case "verdict": return st.verdict;
      case "notrack":
        // Only before conntrack has seen the packet does notrack make it untracked.
        if ((hook === "prerouting" || hook === "output") && base.base!.prio < PRI_CONNTRACK) ev.state.ct = CT_BITS.untracked;
        break;
      case "setmark": ev.state.mark = st.value; break;
      case "srcnat": return { kind: "accept" };
      case "nop": break;
      case "never": return NOMATCH;
      case "unknown": return new Undecidable(st.reason);
    }
  }
  return null;
}

function matches(st: Extract<Statement, { kind: "match" }>, elements: Elements["elements"], values: Value[]): boolean {
  if (st.op === "in") return findElement(elements, values) >= 0;
  if (st.op === "notin") return findElement(elements, values) < 0;
  const c = elements[0]?.[0];
  const v = values[0];
  if (!c || !("lo" in c) || typeof v !== "bigint") return false;
  switch (st.op) {
    case "<": return v < c.lo;
    case ">": return v > c.lo;
    case "<=": return v <= c.lo;
    case ">=": return v >= c.lo;
  }
}

function record(ev: Evaluation, s: TraceStep): void {
  if (ev.trace.length < MAX_TRACE) ev.trace.push(s);
}

function step(chain: Chain, handle: number | null, rule: string, result: string): TraceStep {
  const s: TraceStep = { family: chain.family, table: chain.table, chain: chain.name, handle, rule, result };
  if (chain.source !== "nft") s.source = chain.source;
  return s;
}

export function describeStep(s: TraceStep): string {
  const where = `${s.family} ${s.table} ${s.chain}${s.source ? ` (${s.source})` : ""}`;
  return s.handle === null ? `${where}: ${s.rule}` : `${where} ${s.source ? "rule" : "handle"} ${s.handle}: ${s.rule}`;
}

function fixedValues(ev: Evaluation): Record<FixedField, Value | undefined> {
  return { saddr: ev.packet.saddrValue, daddr: ev.packet.daddrValue, sport: ev.fields.sport, dport: ev.fields.dport, iif: ev.packet.iif, oif: ev.packet.oif };
}

// Plain functions, not closures made per chain run: the bundle names each closure it creates.
function applyPolicy(base: Chain, ev: Evaluation): ChainOutcome {
  const p = base.base!.policy;
  ev.trace.push(step(base, null, `policy ${p}`, p));
  return { verdict: p };
}

function endless(chain: Chain): ChainOutcome {
  return { verdict: "unknown", reason: `${describeStep(step(chain, null, "", ""))}: evaluation does not end (a goto loop?)` };
}

type ChainOutcome = { verdict: "accept" | "drop" } | { verdict: "unknown"; reason: string };

function runBaseChain(base: Chain, hook: Hook, ev: Evaluation): ChainOutcome {
  ev.ctAssigned = !(hook === "ingress" || ((hook === "prerouting" || hook === "output") && base.base!.prio < PRI_CONNTRACK));
  let chain = base;
  let index = 0;
  const stack: { chain: Chain; index: number }[] = [];
  const cls = ev.packetClass;
  const key = cls && classKey(cls, hook);
  let cand: number[] | null = null;
  let candOf: Chain | null = null;
  let pos = 0;
  for (;;) {
    if (index >= chain.rules.length) {
      const caller = stack.pop();
      if (!caller) return applyPolicy(base, ev);
      ({ chain, index } = caller);
      continue;
    }
    if (cls && candOf !== chain) {
      // A few lookups: cheaper than keeping the list for a return to this chain.
      cand = candidates(chain, cls, hook, key!, (ev.fixed ??= fixedValues(ev)));
      candOf = chain;
      pos = 0;
    }
    if (cand) {
      while (pos < cand.length && cand[pos] < index) pos++;
      // Skipped rules count as visited, so that a loop is cut where it would be without skipping.
      const skipped = (pos < cand.length ? cand[pos] : chain.rules.length) - index;
      if (skipped > 0) {
        index += skipped;
        if ((ev.visits += skipped) > MAX_RULE_VISITS) return endless(chain);
        continue;
      }
    }
    if (++ev.visits > MAX_RULE_VISITS) return endless(chain);
    const rule = chain.rules[index++];
    const outcome = evalRule(rule, chain, base, hook, ev);
    if (outcome === NOMATCH) continue;
    if (outcome instanceof Undecidable) {
      const s = step(chain, rule.handle, rule.text, "unknown");
      ev.trace.push(s);
      return { verdict: "unknown", reason: `${describeStep(s)}: cannot be decided: ${outcome.reason}` };
    }
    record(ev, step(chain, rule.handle, rule.text, outcome ? verdictText(outcome) : "continue"));
    if (!outcome || outcome.kind === "continue") continue;
    switch (outcome.kind) {
      case "accept": return { verdict: "accept" };
      case "drop":
      case "reject": return { verdict: "drop" };
      case "return": {
        const caller = stack.pop();
        if (!caller) return applyPolicy(base, ev);
        ({ chain, index } = caller);
        continue;
      }
      case "jump":
      case "goto": {
        const target = ev.ruleset.byName.get(chainKey(chain.source, chain.family, chain.table, outcome.target));
        if (!target) return { verdict: "unknown", reason: `${describeStep(step(chain, rule.handle, rule.text, ""))}: ${outcome.kind} to chain ${outcome.target}, which does not exist` };
        if (target.base) return { verdict: "unknown", reason: `${describeStep(step(chain, rule.handle, rule.text, ""))}: ${outcome.kind} to base chain ${outcome.target}, which the kernel refuses` };
        if (outcome.kind === "jump") {
          if (stack.length >= MAX_JUMP_DEPTH) return { verdict: "unknown", reason: `${describeStep(step(chain, rule.handle, rule.text, ""))}: jumps nest deeper than ${MAX_JUMP_DEPTH} (a jump loop?)` };
          stack.push({ chain, index });
        }
        chain = target;
        index = 0;
        continue;
      }
    }
  }
}

function chainApplies(chain: Chain, hook: Hook, packet: Packet, state: PacketState, families: Set<string>): boolean | Undecidable {
  if (!families.has(chain.family)) return false;
  if (chain.family === "netdev" && hook !== "ingress" && hook !== "egress") return false;
  // nat chains see only the first packet of a tracked connection.
  if (chain.base!.type === "nat" && state.ct !== CT_BITS.new) return false;
  const devices = chain.base!.device;
  if ((hook === "ingress" || hook === "egress") && devices && devices.length > 0) {
    const dev = hook === "ingress" ? packet.iif : packet.oif;
    if (dev === undefined) return chain.rules.length === 0 && chain.base!.policy === "accept" ? false : new Undecidable(`a ${hook} chain on ${devices.join(", ")} and the packet's ${hook === "ingress" ? "--iif" : "--oif"} is not given`);
    return devices.includes(dev);
  }
  return true;
}

export interface EvaluateOptions {
  /**
   * One of many packets under the same ruleset: each chain's rules that a class of packets
   * cannot match are sorted out on the class's first packet and skipped for the rest. The
   * answer is the same; a handful of packets do not repay the sorting.
   */
  batch?: boolean;
}

/**
 * Pure: the kernel's verdict for one packet under a ruleset. `host` (this host's addresses and
 * routes) lets route-type and reverse-path matches be decided.
 */
export function evaluate(ruleset: Ruleset, packet: Packet, host?: HostView, options: EvaluateOptions = {}): Decision {
  const fields = fieldsOf(packet);
  const ev: Evaluation = { ruleset, packet, fields, state: { ct: CT_BITS[packet.ctState], mark: 0n }, trace: [], visits: 0, ctAssigned: true, readLength: false, host };
  if (options.batch) ev.packetClass = { family: packet.family, proto: fields.proto, direction: packet.direction, hasIif: packet.iif !== undefined, hasOif: packet.oif !== undefined };
  const d = decide(ev);
  if (ev.readLength) d.readLength = true;
  return d;
}

function decide(ev: Evaluation): Decision {
  const { packet, ruleset, state } = ev;
  const families = familiesFor(packet);
  const byHook = chainsByHook(ruleset);
  let mainStep: TraceStep | null = null;
  let lastStep: TraceStep | null = null;
  for (const hook of HOOKS[packet.direction]) {
    for (const chain of byHook.get(hook) ?? []) {
      const applies = chainApplies(chain, hook, packet, state, families);
      if (applies instanceof Undecidable) {
        const reason = `${describeStep(step(chain, null, "", ""))}: ${applies.reason}`;
        return { verdict: "unknown", trace: ev.trace, decidedBy: reason, reason };
      }
      if (!applies) continue;
      const outcome = runBaseChain(chain, hook, ev);
      const last = ev.trace[ev.trace.length - 1];
      if (outcome.verdict === "unknown") return { verdict: "unknown", trace: ev.trace, decidedBy: outcome.reason, reason: outcome.reason };
      if (outcome.verdict === "drop") return { verdict: "drop", trace: ev.trace, decidedBy: describeStep(last) };
      lastStep = last;
      if (hook === MAIN_HOOK[packet.direction]) mainStep = last;
    }
  }
  const decider = mainStep ?? lastStep;
  return { verdict: "accept", trace: ev.trace, decidedBy: decider ? describeStep(decider) : "no base chain on the packet's path: nothing filters it" };
}
