// FleetState -> the edge_fleet_node_* series and their fleet counts (edge_fleet_nodes_by_*) in
// Prometheus's text format. Pure and written by hand rather than through prom-client gauges: with
// 10,000 nodes that is up to ~160,000 series per scrape, and prom-client's per-sample label
// hashing took seconds where plain string building takes milliseconds (scripts/bench/receiver.ts).
// The receiver's own counters stay in its prom-client registry. The node's own facts come from
// the parts of NodeState.
//
// Which series a node gets (receiver.nodeSeries): under "problems", the default, every node has
// edge_fleet_node_up and the rest only where something is wrong (a drop verdict, a service down, a
// relayed path, no /64, a stale node's timestamps), so a healthy fleet of 100,000 nodes is a few
// megabytes rather than 140 MB; the counts say how the healthy rest stands. Under "all" every node
// has every series, as on a small fleet's dashboards. The alerts read problem series only, so
// they fire the same under both.
import { labelPairs, text, type FleetFamily, type FleetSample } from "../state/fact";
import { PARTS } from "../state/parts";
import { escapeLabel } from "./escape-label";
import type { FleetState, NodeRecord } from "./fleet-state";

export type NodeSeries = "problems" | "all";

/** edge_fleet_node_info's labels, from every part, in their stable order. */
const INFO_LABELS = PARTS.flatMap((part) => part.fleetInfo).sort((a, b) => a.position - b.position);
const COUNTED_INFO_LABELS = INFO_LABELS.filter((l) => l.counted);

const num = (value: number): string => (Number.isFinite(value) ? String(value) : "NaN");

/** A family over a node's record (the receiver's own view of it, or the facts it reported). */
interface RecordFamily {
  name: string;
  help: string;
  samples: (r: NodeRecord, fleet: FleetState) => FleetSample[];
  count: FleetFamily["count"] | null;
}

const infoValue = (r: NodeRecord, l: (typeof INFO_LABELS)[number]): string => text(r.values[l.object]) || l.fallback;

const RECORD_FAMILIES: RecordFamily[] = [
  {
    name: "edge_fleet_node_up",
    help: "1 while the node reports within its heartbeat window, 0 once it is stale. Every node has it (the count is edge_fleet_nodes).",
    samples: (r) => [{ labels: "", value: r.stale ? 0 : 1, problem: true }],
    count: null,
  },
  {
    name: "edge_fleet_node_last_seen_timestamp_seconds",
    help: "When the receiver last accepted a notification from the node (under receiver.nodeSeries problems: stale nodes only).",
    samples: (r) => [{ labels: "", value: r.lastSeenMs / 1000, problem: r.stale }],
    count: null,
  },
  {
    name: "edge_fleet_node_last_sequence",
    help: "The sequence number of the node's latest notification (under receiver.nodeSeries problems: stale nodes only).",
    samples: (r) => [{ labels: "", value: r.lastSequence, problem: r.stale }],
    count: null,
  },
  {
    name: "edge_fleet_node_heartbeat_interval_seconds",
    help: "The node's heartbeat interval: learned from its heartbeats, else run.heartbeat (under receiver.nodeSeries problems: stale nodes only).",
    samples: (r, f) => [{ labels: "", value: f.heartbeatIntervalMs(r) / 1000, problem: r.stale }],
    count: null,
  },
  {
    name: "edge_fleet_node_info",
    help: "Always 1; the labels describe the node as it last reported (under receiver.nodeSeries problems: nodes without a global /64, with one outside ipv6.allocations, or with tailscaled not Running).",
    samples: (r) => [{ labels: labelPairs(INFO_LABELS.map((l) => [l.label, infoValue(r, l)] as const)), value: 1, problem: INFO_LABELS.some((l) => l.problem?.(infoValue(r, l)) === true) }],
    count: null,
  },
  // Then each part of NodeState's own families (agent/state/<part>.ts).
  ...PARTS.flatMap((part) =>
    part.fleet.map((f): RecordFamily => ({ name: f.name, help: f.help, samples: (r) => f.samples(r.values), count: f.count })),
  ),
];

/** The counted info labels, each its own count family (edge_fleet_nodes_by_version, ...). */
const INFO_COUNTS = COUNTED_INFO_LABELS.map((l) => ({
  name: `edge_fleet_nodes_by_${l.label}`,
  help: `Nodes per ${l.label} label of edge_fleet_node_info, as they last reported.`,
  key: (r: NodeRecord) => labelPairs([[l.label, infoValue(r, l)]]),
}));

/** A family's HELP and TYPE lines (every edge_fleet_* family here is a gauge). */
export function header(name: string, help: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n`;
}

/** A count family's samples, one per label set (`key`, rendered), in a stable order. */
export function countLines(name: string, counts: Map<string, number>): string {
  return [...counts.keys()]
    .sort()
    .map((key) => `${name}{${key}} ${counts.get(key)}\n`)
    .join("");
}

export function renderFleetMetrics(fleet: FleetState, mode: NodeSeries = "problems"): string {
  const records = [...fleet.nodes.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  const nodes = records.map((r) => escapeLabel(r.node));
  const parts: string[] = [];
  const countTexts: string[] = [];
  for (const family of RECORD_FAMILIES) {
    parts.push(header(family.name, family.help));
    const counts = new Map<string, number>();
    for (let i = 0; i < records.length; i++) {
      for (const sample of family.samples(records[i], fleet)) {
        if (mode === "all" || sample.problem) {
          parts.push(`${family.name}{node="${nodes[i]}"${sample.labels ? `,${sample.labels}` : ""}} ${num(sample.value)}\n`);
        }
        if (family.count) {
          const key = family.count.valueLabel ? [sample.labels, `${family.count.valueLabel}="${num(sample.value)}"`].filter(Boolean).join(",") : sample.labels;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
    }
    if (family.count) countTexts.push(header(family.count.name, family.count.help), countLines(family.count.name, counts));
  }
  for (const info of INFO_COUNTS) {
    const counts = new Map<string, number>();
    for (const r of records) {
      const key = info.key(r);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    countTexts.push(header(info.name, info.help), countLines(info.name, counts));
  }
  return parts.join("") + countTexts.join("");
}
