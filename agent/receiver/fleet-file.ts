// The format of the fleet state file (receiver.state). Pure.
//
// Version 3 (written): {"version":3,"fields":[...],"objects":[...],"nodes":[...],"strings":[...]}.
// Each node is an array of its fields in the order of `fields`, its object values an array in the
// order of `objects`: no name is written per node. What a field can be derived from is null, the
// strings many nodes share are indexes into `strings` (written after the nodes, so the file can
// be written a piece at a time while the table grows):
// - lastSequence: null when it is the values' edgeAgentNotificationSequence;
// - lastEventMs: null when it is the values' edgeAgentEventTime;
// - lastHeartbeatEventOffsetMs: lastEventMs minus lastHeartbeatEventMs (null: none seen);
// - lastEvent: an index into `strings`;
// - values, one per object (trailing absent ones left out): an integer is an index into
//   `strings`, a string is the node's own text (names, addresses, times: see compact-values.ts),
//   [n] is the number n, true/false a truth value, null absent.
// That takes a node from ~519 bytes (version 2) to ~250; written as bytes directly (json-bytes.ts),
// not through objects and JSON.stringify, a save takes about half the CPU time.
// Versions 1 (values as an object per node) and 2 (field names per node, values as an array)
// are still read, so a receiver upgraded in place keeps its fleet.
import { OBJECTS } from "../snmp/oid-tree";
import type { ObjectValues } from "../snmp/state-objects";
import { PER_NODE_OBJECTS } from "./compact-values";
import type { NodeRecord } from "./fleet-state";
import { JsonBytes } from "./json-bytes";

const OBJECT_NAMES = OBJECTS.map((o) => o.name);
const PER_NODE = OBJECT_NAMES.map((name) => PER_NODE_OBJECTS.has(name));
const FIELDS = ["node", "lastSeenMs", "lastSequence", "lastEventMs", "window", "lastEvent", "source", "lastHeartbeatEventOffsetMs", "heartbeatGapsMs", "values"] as const;
type Field = (typeof FIELDS)[number];

type Value = ObjectValues[string];

/** A version 3 file, parsed. */
export interface FleetFile {
  version: 3;
  fields: string[];
  objects: string[];
  nodes: unknown[][];
  strings: string[];
}

/** A node as the loader hands it to FleetState.restore, which checks it (version 1's shape). */
export interface LoadedNode {
  node?: unknown;
  values?: ObjectValues;
  lastSeenMs?: unknown;
  lastSequence?: unknown;
  lastEventMs?: unknown;
  window?: unknown;
  lastEvent?: unknown;
  lastSummary?: unknown;
  source?: unknown;
  lastHeartbeatEventMs?: unknown;
  heartbeatGapsMs?: unknown;
}

/**
 * What writes a fleet state file: `record()` for each node, then `end()`; `take()` hands over
 * the bytes written so far (a piece), valid until the next `record()` or `end()`.
 */
export interface FileWriter {
  record(r: NodeRecord): void;
  end(): void;
  take(): Buffer;
}

const NULL = "null";
const OPEN = 0x5b;
const CLOSE = 0x5d;
const COMMA = 0x2c;

/** Writes a version 3 file; one writer per file (it holds the string table the records refer to). */
export class FleetFileWriter implements FileWriter {
  private readonly out = new JsonBytes();
  private readonly strings = new Map<string, number>();
  private first = true;

  constructor() {
    this.out.ascii(`{"version":3,"fields":${JSON.stringify(FIELDS)},"objects":${JSON.stringify(OBJECT_NAMES)},"nodes":[`);
  }

  private index(text: string): void {
    let i = this.strings.get(text);
    if (i === undefined) {
      i = this.strings.size;
      this.strings.set(text, i);
    }
    this.out.number(i);
  }

  record(r: NodeRecord): void {
    const out = this.out;
    const v = r.values;
    const eventTime = v.edgeAgentEventTime;
    if (!this.first) out.byte(COMMA);
    this.first = false;
    // In the order of FIELDS.
    out.byte(OPEN);
    out.string(r.node);
    out.byte(COMMA);
    out.number(r.lastSeenMs);
    out.byte(COMMA);
    if (v.edgeAgentNotificationSequence === r.lastSequence) out.ascii(NULL);
    else out.number(r.lastSequence);
    out.byte(COMMA);
    if (typeof eventTime === "string" && Date.parse(eventTime) === r.lastEventMs) out.ascii(NULL);
    else out.number(r.lastEventMs);
    out.byte(COMMA);
    out.number(r.window);
    out.byte(COMMA);
    this.index(r.lastEvent);
    out.byte(COMMA);
    out.string(r.source);
    out.byte(COMMA);
    if (r.lastHeartbeatEventMs === null) out.ascii(NULL);
    else out.number(r.lastEventMs - r.lastHeartbeatEventMs);
    out.byte(COMMA);
    out.byte(OPEN);
    for (let i = 0; i < r.heartbeatGapsMs.length; i++) {
      if (i > 0) out.byte(COMMA);
      out.number(r.heartbeatGapsMs[i]);
    }
    out.byte(CLOSE);
    out.byte(COMMA);
    out.byte(OPEN);
    // Trailing absent values are left out: an absent one is written only when a value follows.
    let written = 0;
    for (let i = 0; i < OBJECT_NAMES.length; i++) {
      const value = v[OBJECT_NAMES[i]];
      if (value === undefined || value === null || (typeof value === "number" && !Number.isFinite(value))) continue;
      for (; written < i; written++) out.ascii(written === 0 ? NULL : ",null");
      if (i > 0) out.byte(COMMA);
      written = i + 1;
      if (typeof value === "string") {
        if (PER_NODE[i]) out.string(value);
        else this.index(value);
      } else if (typeof value === "number") {
        out.byte(OPEN);
        out.number(value);
        out.byte(CLOSE);
      } else out.ascii(value ? "true" : "false");
    }
    out.byte(CLOSE);
    out.byte(CLOSE);
  }

  end(): void {
    this.out.ascii(`],"strings":`);
    this.out.byte(OPEN);
    let i = 0;
    for (const text of this.strings.keys()) {
      if (i++ > 0) this.out.byte(COMMA);
      this.out.string(text);
    }
    this.out.ascii("]}\n");
  }

  take(): Buffer {
    return this.out.take();
  }
}

/** The whole file for these nodes, at once (the synchronous save, tests). */
export function fleetFileBytes(records: Iterable<NodeRecord>, writer: FileWriter = new FleetFileWriter()): Buffer {
  for (const r of records) writer.record(r);
  writer.end();
  return writer.take();
}

/**
 * The saved nodes of a version 1, 2 or 3 file, each in version 1's shape (values as an object),
 * for FleetState.restore to check one by one (a record that cannot be read is null, and skipped
 * there); throws for anything that is no fleet state file.
 */
export function savedNodes(saved: unknown): (LoadedNode | null)[] {
  const file = saved as { version?: unknown; nodes?: unknown; objects?: unknown; fields?: unknown; strings?: unknown };
  const objects = stringList(file?.objects);
  if (file?.version === 1 && Array.isArray(file.nodes)) return file.nodes;
  if (file?.version === 2 && Array.isArray(file.nodes) && objects) return file.nodes.map((raw) => versionTwoNode(raw, objects));
  const fields = stringList(file?.fields);
  const strings = Array.isArray(file?.strings) ? (file.strings as unknown[]) : null;
  if (file?.version === 3 && Array.isArray(file.nodes) && objects && fields && strings) {
    const at = (field: Field) => fields.indexOf(field);
    const positions = Object.fromEntries(FIELDS.map((f) => [f, at(f)])) as Record<Field, number>;
    return file.nodes.map((raw) => versionThreeNode(raw, positions, objects, strings));
  }
  throw new Error("not a fleet state file (expected {version: 1, 2 or 3, nodes: [...]})");
}

function stringList(list: unknown): string[] | null {
  return Array.isArray(list) && list.every((o) => typeof o === "string") ? list : null;
}

function versionTwoNode(raw: unknown, objects: string[]): LoadedNode | null {
  const r = raw as (LoadedNode & { values?: unknown }) | null;
  if (!r || typeof r !== "object" || !Array.isArray(r.values)) return null;
  const values: ObjectValues = {};
  r.values.forEach((v: unknown, i: number) => {
    if (v !== null && i < objects.length && (typeof v === "string" || typeof v === "number" || typeof v === "boolean")) values[objects[i]] = v;
  });
  return { ...r, values, lastSummary: summaryOf(values) };
}

function versionThreeNode(raw: unknown, at: Record<Field, number>, objects: string[], strings: unknown[]): LoadedNode | null {
  if (!Array.isArray(raw)) return null;
  const list = field(raw, at.values);
  if (!Array.isArray(list)) return null;
  const values: ObjectValues = {};
  for (let i = 0; i < list.length && i < objects.length; i++) {
    const value = savedValue(list[i], strings);
    if (value === undefined) return null;
    if (value !== null) values[objects[i]] = value;
  }
  const sequence = field(raw, at.lastSequence) ?? values.edgeAgentNotificationSequence;
  const eventTime = values.edgeAgentEventTime;
  const parsed = typeof eventTime === "string" ? Date.parse(eventTime) : NaN;
  const eventMs = field(raw, at.lastEventMs) ?? (Number.isFinite(parsed) ? parsed : undefined);
  const offset = field(raw, at.lastHeartbeatEventOffsetMs);
  const lastEvent = savedValue(field(raw, at.lastEvent), strings);
  return {
    node: field(raw, at.node),
    values,
    lastSeenMs: field(raw, at.lastSeenMs),
    lastSequence: sequence,
    lastEventMs: eventMs,
    window: field(raw, at.window),
    lastEvent: typeof lastEvent === "string" ? lastEvent : undefined,
    lastSummary: summaryOf(values),
    source: field(raw, at.source),
    lastHeartbeatEventMs: typeof offset === "number" && typeof eventMs === "number" ? eventMs - offset : null,
    heartbeatGapsMs: field(raw, at.heartbeatGapsMs),
  };
}

/** The field at `index` of a record (a file may lack a field: -1). */
function field(raw: unknown[], index: number): unknown {
  return index >= 0 ? raw[index] : undefined;
}

/** One value as version 3 writes it: null for absent, undefined for what cannot be read. */
function savedValue(saved: unknown, strings: unknown[]): Value | null | undefined {
  if (saved === null) return null;
  if (typeof saved === "number") {
    const text = Number.isInteger(saved) ? strings[saved] : undefined;
    return typeof text === "string" ? text : undefined;
  }
  if (typeof saved === "string" || typeof saved === "boolean") return saved;
  if (Array.isArray(saved) && saved.length === 1 && typeof saved[0] === "number") return saved[0];
  return undefined;
}

function summaryOf(values: ObjectValues): string {
  const summary = values.edgeAgentEventSummary;
  return typeof summary === "string" ? summary : "";
}
