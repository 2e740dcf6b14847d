// The format of the fleet state file (receiver.state). Version 2: one record per node whose
// object values are an array in the order of the file's own `objects` list, so the two dozen
// object names are written once instead of once per node (version 1 repeated them: 57 MB at
// 50,000 nodes, about half of it names). Version 1 (values as an object per node) is still read,
// so a receiver upgraded in place keeps its fleet. Pure.
import { OBJECTS } from "../snmp/oid-tree";
import type { ObjectValues } from "../snmp/state-objects";
import type { NodeRecord } from "./fleet-state";

const OBJECT_NAMES = OBJECTS.map((o) => o.name);

type Value = ObjectValues[string];

/** A node as version 2 saves it. */
export interface SavedRecord {
  node: string;
  lastSeenMs: number;
  lastSequence: number;
  lastEventMs: number;
  window: number;
  lastEvent: string;
  source: string;
  lastHeartbeatEventMs: number | null;
  heartbeatGapsMs: number[];
  /** The object values in the order of the file's `objects`; null where the node sent none. */
  values: (Value | null)[];
}

export interface FleetFile {
  version: 2;
  objects: string[];
  nodes: SavedRecord[];
}

export function savedRecord(r: NodeRecord): SavedRecord {
  const values = r.values;
  return {
    node: r.node,
    lastSeenMs: r.lastSeenMs,
    lastSequence: r.lastSequence,
    lastEventMs: r.lastEventMs,
    window: r.window,
    lastEvent: r.lastEvent,
    source: r.source,
    lastHeartbeatEventMs: r.lastHeartbeatEventMs,
    heartbeatGapsMs: r.heartbeatGapsMs,
    values: OBJECT_NAMES.map((name) => values[name] ?? null),
  };
}

export function fleetFile(records: Iterable<NodeRecord>): FleetFile {
  return { version: 2, objects: OBJECT_NAMES, nodes: Array.from(records, savedRecord) };
}

/** The text before the records of a version 2 file, for writing one in pieces; `FILE_END` closes it. */
export const FILE_START = `{"version":2,"objects":${JSON.stringify(OBJECT_NAMES)},"nodes":[`;
export const FILE_END = "]}\n";

/**
 * The saved nodes of a version 1 or 2 file, each in version 1's shape (values as an object), for
 * FleetState.restore to check one by one; throws for anything that is neither.
 */
export function savedNodes(saved: unknown): unknown[] {
  const file = saved as { version?: unknown; nodes?: unknown; objects?: unknown };
  if (file?.version === 1 && Array.isArray(file.nodes)) return file.nodes;
  if (file?.version === 2 && Array.isArray(file.nodes) && Array.isArray(file.objects) && file.objects.every((o) => typeof o === "string")) {
    const names = file.objects as string[];
    return file.nodes.map((raw) => {
      const r = raw as Partial<SavedRecord> | null;
      if (!r || typeof r !== "object" || !Array.isArray(r.values)) return null;
      const values: ObjectValues = {};
      r.values.forEach((v, i) => {
        if (v !== null && i < names.length && (typeof v === "string" || typeof v === "number" || typeof v === "boolean")) values[names[i]] = v;
      });
      const summary = values.edgeAgentEventSummary;
      return { ...r, values, lastSummary: typeof summary === "string" ? summary : "" };
    });
  }
  throw new Error("not a fleet state file (expected {version: 1 or 2, nodes: [...]})");
}
