// What defining a part of NodeState means: beside its type, everything every output needs to
// show it. The outputs (diff's events, the textfile, the MIB and its objects over AgentX and in
// notifications, the receiver's fleet metrics, fleet page and alerts) iterate the definitions in
// parts.ts and list no fact of their own, so a part added there is shown everywhere or fails to
// compile, and test/unit/fact-coverage.test.ts proves each definition is complete.
// node_exporter's collectors are the model: one file per part and one line in the registry.
import type { StateEvent } from "../diff";
import type { Alert } from "../receiver/alerts";
import type { NotificationDef, ObjectDef } from "../snmp/oid-tree";
import type { ObjectValues } from "../snmp/state-objects";
import { escapeLabel } from "../receiver/escape-label";
import type { NodeState } from "./node-state";

/** One MIB object of the part, with how NodeState gives its value (enums by label). */
export interface StateObject extends ObjectDef {
  value: (state: NodeState) => string | number | boolean;
}

/** One edge_agent_* textfile series; an optional one without labels is absent when unknown. */
export interface Series {
  name: string;
  help: string;
  labels: string[];
}

/** Where a part writes its samples: `set` for a labelled or known value, null for "absent". */
export interface SeriesWriter {
  set: (name: string, labels: Record<string, string>, value: number) => void;
  setOptional: (name: string, value: number | null) => void;
}

/**
 * A label of edge_fleet_node_info, taken from one object; `position` keeps the label order stable.
 * `problem` says which of its values mark the node as having a problem (its info series is then
 * written even under receiver.nodeSeries "problems"); `counted` labels also get a fleet count,
 * edge_fleet_nodes_by_<label> (only labels with few distinct values: never names or prefixes).
 */
export interface FleetInfoLabel {
  label: string;
  object: string;
  fallback: string;
  position: number;
  problem?: (value: string) => boolean;
  counted?: boolean;
}

/**
 * One sample of a per-node family: its labels beside `node`, rendered and escaped, its value, and
 * whether it says something is wrong (only those are written per node under receiver.nodeSeries
 * "problems").
 */
export interface FleetSample {
  labels: string;
  value: number;
  problem: boolean;
}

/**
 * One per-node edge_fleet_node_* family, from the object values the node last reported, and its
 * count over the fleet. Per node, every sample is written under receiver.nodeSeries "all", and
 * only the problem ones under "problems" (the default), so a healthy fleet of 100,000 nodes is
 * not a million series; the count (edge_fleet_nodes_by_*) covers every node either way.
 */
export interface FleetFamily {
  name: string;
  help: string;
  samples: (values: ObjectValues) => FleetSample[];
  /** Nodes per label set; with `valueLabel`, per value too (for families whose value is not always 1). */
  count: { name: string; help: string; valueLabel?: string };
}

/** `a="x",b="y"` from label pairs, values escaped. */
export function labelPairs(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",");
}

/**
 * A family of verdicts (accept, drop, unknown), one sample per check: `key` names the check's
 * label. A drop is the problem; unknown is counted, not written per node (on most hosts some
 * checks cannot be decided, and a series per such node would be most of the page).
 */
export function verdictFamily<Check extends string>(
  name: string,
  help: string,
  key: string,
  checks: readonly Check[],
  objectOf: (check: Check) => string,
  count: { name: string; help: string },
): FleetFamily {
  return {
    name,
    help,
    samples: (v) =>
      checks.map((check) => {
        const verdict = text(v[objectOf(check)]) || "unknown";
        return { labels: labelPairs([[key, check], ["verdict", verdict]]), value: 1, problem: verdict === "drop" };
      }),
    count,
  };
}

/** How a value on the fleet page reads: fine, a problem, or neither (unknown, not applicable). */
export type PageTone = "ok" | "bad" | "none";

/** One line of a fleet page cell: what it is about ("" when the heading says it) and its value. */
export interface PageLine {
  label: string;
  value: string;
  tone: PageTone;
}

/** One column of the receiver's fleet page (`/`), from the object values the node last reported. */
export interface PageColumn {
  heading: string;
  lines: (values: ObjectValues) => PageLine[];
}

export interface PartDefinition {
  /**
   * Its key in NodeState, dotted for a part kept inside another's object (tailnet.policy, as
   * DESIGN.md's status --json shape has it), and its `probe` label in edge_agent_probe_up.
   */
  part: keyof NodeState | `${keyof NodeState}.${string}`;
  /** Every failure code the part's probe can report, in docs and coverage order. */
  failures: readonly string[];
  objects: readonly StateObject[];
  series: readonly Series[];
  textfile: (state: NodeState, out: SeriesWriter) => void;
  /** The EDGE-AGENT-MIB notification of each event kind `events` produces. */
  notifications: readonly NotificationDef[];
  /** What changed from prev to next, as events (both snapshots are whole). */
  events: (prev: NodeState, next: NodeState) => StateEvent[];
  /** What a first snapshot finds missing, worded as the part's change events word it. */
  problemsAtStart: (state: NodeState) => string[];
  /**
   * Its lines in `status`'s text form, the first starting with the part's name padded to 10; a
   * nested part's lines follow its parent's, the first indented 10 and starting with its own name.
   */
  status: (state: NodeState) => string[];
  fleetInfo: readonly FleetInfoLabel[];
  fleet: readonly FleetFamily[];
  /** Its columns on the receiver's fleet page, each object it reports shown in one of them. */
  page: readonly PageColumn[];
  /** The receiver's alerts for a node, from the values it last reported. */
  alerts: (values: ObjectValues, node: string) => Alert[];
}

/** The probe's own error after a colon, for the state an event reports (not the one it left). */
export function because(error: string, why: boolean): string {
  return why ? `: ${error}` : "";
}

/** "yes", "no", or `unknown` for null: how `status` shows a boolean that may be unknown. */
export function yesNo(value: boolean | null, unknown = "n/a"): string {
  return value === null ? unknown : value ? "yes" : "no";
}

/** A reported object's value as text ("" when absent or not a string). */
export const text = (value: unknown): string => (typeof value === "string" ? value : "");

/** A fleet page line for a reported verdict (accept, drop, unknown). */
export function verdictLine(label: string, value: unknown): PageLine {
  const verdict = text(value) || "unknown";
  return { label, value: verdict, tone: verdict === "accept" ? "ok" : verdict === "drop" ? "bad" : "none" };
}
