// The shape every object of nft's JSON listing has: one key naming what it is (`{"payload":
// {...}}`), read the same way by the parser, the key reader and the renderer.
export type Json = unknown;
export type Obj = Record<string, Json>;

/** Something inside one rule that the model cannot express: the rule becomes unknown. */
export class Unmodelled extends Error {}

export function isObj(v: Json): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The one key of an expression object (`{"payload": {...}}`): nft's JSON tags each that way. */
export function soleKey(v: Json): string {
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

export function only(v: Json): [string, Json] {
  const key = soleKey(v);
  return [key, (v as Obj)[key]];
}
