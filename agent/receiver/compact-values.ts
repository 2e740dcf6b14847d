// A node's object values as FleetState keeps them, for fleets of 100,000 nodes: in an object
// cloned from one template with every MIB object (so all records share one V8 shape with fast
// properties, where an object built by adding two dozen properties one by one fell back to a
// dictionary of ~1.6 KB), and with the strings many nodes share (tags, state, version,
// summaries) stored once. The decoded event time (built by concatenation, which V8 keeps as a
// tree of eight pieces) is copied into one flat string. Missing objects are undefined, which
// readers treat as absent.
import { OBJECTS } from "../snmp/oid-tree";
import type { ObjectValues } from "../snmp/state-objects";

const NAMES = OBJECTS.map((o) => o.name);

/** Objects whose value is the node's own (names, addresses, times): flattened, never shared. */
export const PER_NODE_OBJECTS: ReadonlySet<string> = new Set(["edgeAgentHostName", "edgeAgentTailnetName", "edgeAgentTailnetAddresses", "edgeAgentPrimaryPrefix", "edgeAgentScraperEndpoint", "edgeAgentEventTime"]);

// JSON.parse builds an object with fast properties; setting them to undefined keeps its shape.
const TEMPLATE: ObjectValues = JSON.parse(JSON.stringify(Object.fromEntries(NAMES.map((n) => [n, null]))));
for (const name of NAMES) (TEMPLATE as Record<string, unknown>)[name] = undefined;

const shared = new Map<string, string>();
const SHARED_MAX = 10_000;

function share(value: string): string {
  const known = shared.get(value);
  if (known !== undefined) return known;
  // Bounded: values sent by strangers must not grow it; cleared, it fills again with what recurs.
  if (shared.size >= SHARED_MAX) shared.clear();
  shared.set(value, value);
  return value;
}

/** One flat string; only the event time needs it (every other string is decoded from octets). */
function flat(name: string, value: string): string {
  return name === "edgeAgentEventTime" ? Buffer.from(value, "latin1").toString("latin1") : value;
}

/** The values in the compact form; unknown object names are dropped (no reader knows them). */
export function compactValues(values: ObjectValues): ObjectValues {
  const out = { ...TEMPLATE };
  for (const name of NAMES) {
    const value = values[name];
    if (value === undefined) continue;
    out[name] = typeof value === "string" ? (PER_NODE_OBJECTS.has(name) ? flat(name, value) : share(value)) : value;
  }
  return out;
}
