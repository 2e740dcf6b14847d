// Reads `nft -j list ruleset` (libnftables-json schema version 1) into the ruleset model. A rule
// the model cannot express keeps its place and becomes an `unknown` statement, so the evaluator
// names it if a packet reaches it; input that is not such a document at all is a RulesetError.
import { addChain, chainKey, emptyRuleset, RulesetError, type Chain, type Hook, type NamedSet, type Rule, type Ruleset, type Statement } from "./ruleset";
import { component, namedSet, NOP, setSource, VERDICT_STATEMENTS, verdictOf } from "./nft-values";
import { isObj, soleKey, Unmodelled, type Json, type Obj } from "./nft-shape";
import { extensionHeaderMatch, keysOf } from "./nft-keys";
import { renderRule, renderStatement } from "./nft-render";

const HOOKS = new Set<Hook>(["ingress", "prerouting", "input", "forward", "output", "postrouting", "egress"]);

/** A right-hand side that is one value, prefix or range (not a set, a list or a set's name). */
function isSingle(right: Json): boolean {
  if (Array.isArray(right)) return false;
  if (isObj(right)) return !("set" in right);
  return !(typeof right === "string" && right.startsWith("@"));
}

function matchStatement(m: Obj, tableFamily: string, out: Statement[]): void {
  const exthdr = extensionHeaderMatch(m, tableFamily);
  if (exthdr) { out.push(...exthdr); return; }
  // Dependencies are only found on the way to a throw; compileElement collects them then.
  const { keys, kinds } = keysOf(m.left, tableFamily);
  const op = m.op === undefined ? "==" : String(m.op);
  const right = m.right;
  // `fib ... oif missing` lists as a comparison with false: no route back is the empty name.
  if (keys.length === 1 && keys[0].field === "fibsaddr" && typeof right === "boolean" && (op === "==" || op === "!=")) {
    out.push({ kind: "test", key: keys[0], component: { name: "", wildcard: false }, negate: right === (op === "==") });
    return;
  }
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
    if (expr.some((e) => isObj(e) && "xt" in e)) (ruleset.xtTables ??= new Set()).add(`${chain.family} ${chain.table}`);
    chain.rules.push(new NftRule(typeof r.handle === "number" ? r.handle : chain.rules.length + 1, expr, chain, context));
  }
  return ruleset;
}
