// What the receiver accepts from a notification before it becomes fleet state: every value
// within its MIB object's SIZE (DisplayString octets), so a node's record is bounded too, and a
// node name that can be a Prometheus target (a DNS label, as a MagicDNS short name is). Pure.
import { OBJECTS } from "../snmp/oid-tree";
import type { ObjectValues } from "../snmp/state-objects";

/** DisplayString's own limit (RFC 2579) for an object whose syntax names no SIZE. */
const DISPLAY_STRING_MAX = 255;
/** A non-string value (number, enum label, truth value, ISO time) as kept in a record; at least 24, which oversize() relies on. */
const SCALAR_MAX = 32;

const maxOctets = new Map(OBJECTS.map((o) => [o.name, o.syntax.kind === "DisplayString" ? (o.syntax.size?.[1] ?? DISPLAY_STRING_MAX) : SCALAR_MAX]));

/** The most a node's values can take: every object at its MIB maximum. */
export const NODE_VALUES_MAX_OCTETS = [...maxOctets.values()].reduce((a, b) => a + b, 0);

/** Why the values are refused (the first object over its SIZE, or the total), or null. */
export function oversize(values: ObjectValues): string | null {
  // Per notification, so first a bound without encoding anything: UTF-8 takes at most 3 octets
  // per UTF-16 unit. Only values that might be too large are measured exactly.
  let bound = 0;
  let fits = true;
  for (const name in values) {
    const value = values[name];
    // A number or truth value prints in at most 24 characters, within SCALAR_MAX.
    const most = typeof value === "string" ? value.length * 3 : 24;
    bound += most;
    if (most > (maxOctets.get(name) ?? 0)) {
      fits = false;
      break;
    }
  }
  if (fits && bound <= NODE_VALUES_MAX_OCTETS) return null;
  let total = 0;
  for (const [name, value] of Object.entries(values)) {
    const octets = Buffer.byteLength(String(value), "utf8");
    const max = maxOctets.get(name) ?? 0;
    if (octets > max) return `${name} is ${octets} octets, more than its SIZE of ${max}`;
    total += octets;
  }
  return total > NODE_VALUES_MAX_OCTETS ? `its objects take ${total} octets, more than ${NODE_VALUES_MAX_OCTETS}` : null;
}

/** A name Prometheus can scrape as `<name>:9100`: one DNS label (letters, digits, inner hyphens). */
export function isTargetName(name: string): boolean {
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name);
}
