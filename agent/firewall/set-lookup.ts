// Finds which element of a set (or map) holds a packet's key: the first element, in the set's
// order, whose every component contains the matching value. A set looked up often enough gets
// an index (a hash of exact elements, or sorted disjoint intervals searched by halving);
// anything an index cannot answer exactly the same way is scanned in order.
import type { Component, Element } from "./ruleset";

/** A key's value as the evaluator reads it: an integer (address, port, mark...) or a name. */
export type Value = bigint | string;

/**
 * Scanning is cheaper than building an index for the few lookups of one daemon cycle (a
 * handful of packets); a set looked up more often than this (`trace --packets`, a set many
 * rules share) is indexed.
 */
export const INDEX_AFTER_LOOKUPS = 8;
/** Below this many elements a scan is as fast as any index. */
export const INDEX_MIN_ELEMENTS = 16;

export function componentHas(c: Component, v: Value): boolean {
  if ("lo" in c) return typeof v === "bigint" && v >= c.lo && v <= c.hi;
  if (typeof v !== "string") return false;
  return c.wildcard ? v.startsWith(c.name) : v === c.name;
}

/** The first element holding `values`, by scanning; -1 when none does. */
export function scanElements(elements: Element[], values: Value[]): number {
  outer: for (let i = 0; i < elements.length; i++) {
    const el = elements[i];
    if (el.length !== values.length) continue;
    for (let j = 0; j < el.length; j++) if (!componentHas(el[j], values[j])) continue outer;
    return i;
  }
  return -1;
}

type Index =
  /** Every element exact (single values, names without a wildcard): first index by key. */
  | { kind: "exact"; arity: number; first: Map<Value, number> }
  /** One integer component per element, intervals that do not overlap, sorted by start. */
  | { kind: "intervals"; lo: bigint[]; hi: bigint[]; at: number[] }
  /** Nothing an index answers exactly like the scan (wildcards, overlaps, ranges in a concatenation). */
  | { kind: "scan" };

interface Entry {
  lookups: number;
  index?: Index;
}

const entries = new WeakMap<Element[], Entry>();

/** The hash key of one exact component (the one value it holds), or null when it holds more. */
export function exactKey(c: Component): Value | null {
  if ("lo" in c) return c.lo === c.hi ? c.lo : null;
  return c.wildcard ? null : c.name;
}

/** One key for a concatenation's values: type-tagged and length-prefixed so no two collide. */
function tupleKey(values: readonly Value[]): string {
  let key = "";
  for (const v of values) key += typeof v === "bigint" ? `n${v.toString(16)};` : `s${v.length}:${v}`;
  return key;
}

export function buildIndex(elements: Element[]): Index {
  const arity = elements[0]?.length ?? 0;
  if (arity === 0 || elements.some((el) => el.length !== arity)) return { kind: "scan" };
  const first = new Map<Value, number>();
  let exact = true;
  for (let i = 0; i < elements.length && exact; i++) {
    const el = elements[i];
    const parts: Value[] = [];
    for (const c of el) {
      const k = exactKey(c);
      if (k === null) { exact = false; break; }
      parts.push(k);
    }
    if (!exact) break;
    const key = arity === 1 ? parts[0] : tupleKey(parts);
    if (!first.has(key)) first.set(key, i);
  }
  if (exact) return { kind: "exact", arity, first };
  if (arity !== 1 || elements.some((el) => !("lo" in el[0]))) return { kind: "scan" };
  const order = elements.map((_, i) => i);
  const range = (i: number) => elements[i][0] as { lo: bigint; hi: bigint };
  order.sort((a, b) => (range(a).lo < range(b).lo ? -1 : range(a).lo > range(b).lo ? 1 : a - b));
  for (let k = 1; k < order.length; k++) if (range(order[k]).lo <= range(order[k - 1]).hi) return { kind: "scan" };
  return { kind: "intervals", lo: order.map((i) => range(i).lo), hi: order.map((i) => range(i).hi), at: order };
}

export function lookupIndex(index: Index, elements: Element[], values: Value[]): number {
  switch (index.kind) {
    case "scan": return scanElements(elements, values);
    case "exact": {
      if (values.length !== index.arity) return -1;
      return index.first.get(index.arity === 1 ? values[0] : tupleKey(values)) ?? -1;
    }
    case "intervals": {
      const v = values[0];
      if (values.length !== 1 || typeof v !== "bigint") return -1;
      // The last interval starting at or below v is the only one that can hold it.
      let lo = 0;
      let hi = index.lo.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (index.lo[mid] <= v) { found = mid; lo = mid + 1; } else hi = mid - 1;
      }
      return found >= 0 && v <= index.hi[found] ? index.at[found] : -1;
    }
  }
}

/** The first element of `elements` holding `values`, or -1; the same answer as scanning. */
export function findElement(elements: Element[], values: Value[]): number {
  if (elements.length < INDEX_MIN_ELEMENTS) return scanElements(elements, values);
  let entry = entries.get(elements);
  if (!entry) entries.set(elements, (entry = { lookups: 0 }));
  if (!entry.index && ++entry.lookups > INDEX_AFTER_LOOKUPS) entry.index = buildIndex(elements);
  return entry.index ? lookupIndex(entry.index, elements, values) : scanElements(elements, values);
}
