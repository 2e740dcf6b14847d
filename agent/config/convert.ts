// Walks a parsed YAML value along the schema table: converts every key, fills in defaults, and
// collects every problem (wrong type, bad value, unknown key) with its key path instead of
// stopping at the first, so one run names all of a config's mistakes.
import { Invalid, type Node, type Show } from "./nodes";
import { describe, keyName, kindOf, showSecret } from "./show";

/** Where a value sits: keys and list indexes from the top. */
export type Path = readonly (string | number)[];
export interface Found {
  path: Path;
  problem: string;
}

/** probes.snmpd.port, receiver.users[0].authKey, or (top level). */
export function keyOf(path: Path): string {
  if (path.length === 0) return "(top level)";
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${keyName(part)}`)).join("");
}

// Own keys only: `toString`, `constructor` or `__proto__` in a file are not keys of the schema
// just because every object inherits them.
const has = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/** The converted value, or undefined where a problem was found (and pushed onto `found`). */
export function convert(node: Node, raw: unknown, path: Path, found: Found[]): unknown {
  if (node.kind === "leaf") {
    const show: Show = node.secret ? showSecret : (value) => describe(value, node.display);
    try {
      return node.convert(raw === undefined ? node.default : raw, show);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      found.push({ path, problem: error.message });
      return undefined;
    }
  }
  if (node.kind === "list") {
    const given = raw === undefined ? node.default : raw;
    if (given === null) return [];
    if (!Array.isArray(given)) {
      const secret = node.item.kind === "leaf" && node.item.secret;
      found.push({ path, problem: `expected a list, got ${secret ? kindOf(given) : describe(given)}` });
      return undefined;
    }
    return given.map((item, i) => convert(node.item, item, [...path, i], found));
  }
  if ((raw === undefined || raw === null) && node.nullable) return null;
  const given = raw ?? {};
  if (typeof given !== "object" || Array.isArray(given)) {
    // Only the kind: a scalar where a section belongs may hold that section's secrets.
    found.push({ path, problem: `expected a mapping, got ${kindOf(given)}` });
    return undefined;
  }
  const fields: Record<string, Node> = node.fields;
  for (const name of Object.keys(given))
    if (!has(fields, name)) found.push({ path: [...path, name], problem: `unknown key (known keys here: ${Object.keys(fields).join(", ")})` });
  const out: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(fields)) {
    const value = has(given, name) ? (given as Record<string, unknown>)[name] : undefined;
    out[child.kind === "leaf" ? `${name}${child.suffix}` : name] = convert(child, value, [...path, name], found);
  }
  return out;
}
