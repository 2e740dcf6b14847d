// Which rules of a chain a class of packets (family, transport protocol, direction, whether
// the interfaces are given, the hook) can match at all, worked out once per class for a batch of
// packets, and of those, which only one value of an address, port or interface lets through
// (indexed by that value, so a packet finds its few candidates without walking the chain).
// A rule is set aside only when its leading statements decide that alone, with nothing before
// them that could act or be undecidable: skipping it changes no verdict, trace step or length note.
import type { Packet } from "./packet";
import type { Chain, Hook, Key, Rule, Statement } from "./ruleset";
import { componentHas, exactKey, type Value } from "./set-lookup";

/** What evaluating a rule needs to know about a packet to skip rules for it. */
export interface PacketClass {
  family: Packet["family"];
  /** IP protocol number. */
  proto: number;
  direction: Packet["direction"];
  hasIif: boolean;
  hasOif: boolean;
}

export function classKey(c: PacketClass, hook: Hook): string {
  return `${hook} ${c.family} ${c.proto} ${c.direction} ${c.hasIif ? 1 : 0}${c.hasOif ? 1 : 0}`;
}

/** The key never matches a packet of the class. */
const NEVER = 0;
/** Reading it may be undecidable or have an effect (length reads are noted): stop looking. */
const OPEN = 1;
/** Read without effect and always decidable, its value varying within the class. */
const VARIES = 2;

/** How a key reads for every packet of the class: one of the above, or the value all of them have. */
function keyAtClass(key: Key, c: PacketClass, hook: Hook): typeof NEVER | typeof OPEN | typeof VARIES | { value: Value } {
  // The evaluator checks these first, whatever the field.
  if (key.family && key.family !== c.family) return NEVER;
  if (key.l4 && !key.l4.includes(c.proto)) return NEVER;
  switch (key.field) {
    case "l4proto": return { value: BigInt(c.proto) };
    case "nfproto": return { value: c.family === "ipv4" ? 2n : 10n };
    case "saddr": case "daddr": case "sport": case "dport": case "mark": return VARIES;
    case "ctstate": return key.natStatusBeside === undefined ? VARIES : OPEN;
    case "iifname": case "iif":
      if (c.direction === "out") return { value: "" };
      return c.hasIif ? VARIES : OPEN;
    case "oifname": case "oif":
      if (c.direction === "in" || hook === "prerouting" || hook === "ingress") return { value: "" };
      return c.hasOif ? VARIES : OPEN;
    // ct status, route and address types (the host's view), lengths (noted when read).
    default: return OPEN;
  }
}

/** NEVER when some key of `keys`, read in order, never matches before one is OPEN. */
function keysAtClass(keys: Key[], c: PacketClass, hook: Hook): typeof NEVER | typeof OPEN | typeof VARIES {
  for (const key of keys) {
    const r = keyAtClass(key, c, hook);
    if (r === NEVER || r === OPEN) return r;
  }
  return VARIES;
}

function statementAt(rule: Rule, i: number): Statement | undefined {
  return rule.statementAt ? rule.statementAt(i) : rule.statements[i];
}

/** Packet fields whose value stays the same while the packet is evaluated in one hook. */
export type FixedField = "saddr" | "daddr" | "sport" | "dport" | "iif" | "oif";

const FIXED: Partial<Record<Key["field"], FixedField>> = { saddr: "saddr", daddr: "daddr", sport: "sport", dport: "dport", iifname: "iif", iif: "iif", oifname: "oif", oif: "oif" };

/** A rule matches only packets whose `field` is `value`. */
interface Discriminator {
  field: FixedField;
  value: Value;
}

/**
 * Pure: false when no packet of the class can get past the rule's leading statements; else
 * true, or what a packet's field must be for it to get past them.
 */
export function ruleFilter(rule: Rule, c: PacketClass, hook: Hook): boolean | Discriminator {
  let found: Discriminator | null = null;
  for (let i = 0; ; i++) {
    let st: Statement | undefined;
    try {
      st = statementAt(rule, i);
    } catch {
      return found ?? true; // the evaluator meets the same failure if a packet gets there
    }
    if (st === undefined) return found ?? true;
    switch (st.kind) {
      case "nop": continue;
      case "never": return false;
      case "test": {
        const r = keyAtClass(st.key, c, hook);
        if (r === NEVER) return false;
        if (r === OPEN) return found ?? true;
        if (r !== VARIES) {
          if (componentHas(st.component, r.value) === st.negate) return false;
        } else if (!found && !st.negate) {
          const field = FIXED[st.key.field];
          const value = exactKey(st.component);
          if (field && value !== null) found = { field, value };
        }
        continue;
      }
      case "match": {
        const r = keysAtClass(st.keys, c, hook);
        if (r === NEVER) return false;
        if (r === OPEN) return found ?? true;
        // A named set the parser did not find is looked up (and may be missing) when reached.
        if ("ref" in st.set && !st.set.resolved) return found ?? true;
        continue;
      }
      case "vmap": return keysAtClass(st.keys, c, hook) === NEVER ? false : found ?? true;
      // Verdicts, marks, notrack, nat and what is not modelled: reached, they decide or act.
      default: return found ?? true;
    }
  }
}

/** A chain's rules for one class: those any packet may match, and those for one value of a field. */
interface Plan {
  always: number[];
  byField: { field: FixedField; byValue: Map<Value, number[]> }[];
}

/**
 * Sorting a chain's rules costs about as much as a few packets walking them: a class's plan is
 * made when its packets have entered the chain this many times, so a short batch costs what
 * single traces do.
 */
export const PLAN_AFTER_PACKETS = 8;

/** Per chain and class: the plan, or how many packets of the class have entered the chain. */
const plans = new WeakMap<Chain, Map<string, Plan | number>>();

function planFor(chain: Chain, c: PacketClass, hook: Hook, key: string): Plan | null {
  let byClass = plans.get(chain);
  if (!byClass) plans.set(chain, (byClass = new Map()));
  let plan = byClass.get(key) ?? 0;
  if (typeof plan === "number") {
    if (plan < PLAN_AFTER_PACKETS) {
      byClass.set(key, plan + 1);
      return null;
    }
    plan = { always: [], byField: [] };
    for (let i = 0; i < chain.rules.length; i++) {
      const f = ruleFilter(chain.rules[i], c, hook);
      if (f === false) continue;
      if (f === true) { plan.always.push(i); continue; }
      let entry = plan.byField.find((e) => e.field === f.field);
      if (!entry) plan.byField.push((entry = { field: f.field, byValue: new Map() }));
      const list = entry.byValue.get(f.value);
      if (list) list.push(i);
      else entry.byValue.set(f.value, [i]);
    }
    byClass.set(key, plan);
  }
  return plan;
}

/**
 * The indices, ascending, of the chain's rules a packet can match, or null before the class has
 * a plan (every rule then); with one, a packet costs a lookup per field rules discriminate on.
 */
export function candidates(chain: Chain, c: PacketClass, hook: Hook, key: string, values: Record<FixedField, Value | undefined>): number[] | null {
  const plan = planFor(chain, c, hook, key);
  if (!plan) return null;
  let out = plan.always;
  let copied = false;
  for (const { field, byValue } of plan.byField) {
    const v = values[field];
    const hit = v === undefined ? undefined : byValue.get(v);
    if (!hit) continue;
    if (out.length === 0) { out = hit; continue; }
    if (!copied) { out = out.slice(); copied = true; }
    for (const i of hit) out.push(i);
  }
  if (copied) out.sort((a, b) => a - b);
  return out;
}
