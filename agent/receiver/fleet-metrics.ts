// FleetState -> the per-node edge_fleet_node_* series in Prometheus's text format. Pure and
// written by hand rather than through prom-client gauges: with 10,000 nodes that is ~100,000
// series per scrape, and prom-client's per-sample label hashing took seconds where plain string
// building takes milliseconds (scripts/bench/receiver.ts). The receiver's own counters stay in
// its prom-client registry. The node's own facts come from the parts of NodeState.
import { text } from "../state/fact";
import { PARTS } from "../state/parts";
import { escapeLabel } from "./escape-label";
import type { FleetState, NodeRecord } from "./fleet-state";

/** edge_fleet_node_info's labels, from every part, in their stable order. */
const INFO_LABELS = PARTS.flatMap((part) => part.fleetInfo).sort((a, b) => a.position - b.position);

function labels(pairs: [string, string][]): string {
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

interface Family {
  name: string;
  help: string;
  samples: (r: NodeRecord, fleet: FleetState, node: string) => string;
}

const num = (value: number): string => (Number.isFinite(value) ? String(value) : "NaN");

const FAMILIES: Family[] = [
  {
    name: "edge_fleet_node_up",
    help: "1 while the node reports within its heartbeat window, 0 once it is stale.",
    samples: (r, _f, node) => `edge_fleet_node_up{node="${node}"} ${r.stale ? 0 : 1}\n`,
  },
  {
    name: "edge_fleet_node_last_seen_timestamp_seconds",
    help: "When the receiver last accepted a notification from the node.",
    samples: (r, _f, node) => `edge_fleet_node_last_seen_timestamp_seconds{node="${node}"} ${num(r.lastSeenMs / 1000)}\n`,
  },
  {
    name: "edge_fleet_node_last_sequence",
    help: "The sequence number of the node's latest notification.",
    samples: (r, _f, node) => `edge_fleet_node_last_sequence{node="${node}"} ${num(r.lastSequence)}\n`,
  },
  {
    name: "edge_fleet_node_heartbeat_interval_seconds",
    help: "The node's heartbeat interval: learned from its heartbeats, else run.heartbeat.",
    samples: (r, f, node) => `edge_fleet_node_heartbeat_interval_seconds{node="${node}"} ${num(f.heartbeatIntervalMs(r) / 1000)}\n`,
  },
  {
    name: "edge_fleet_node_info",
    help: "Always 1; the labels describe the node as it last reported.",
    samples: (r) => `edge_fleet_node_info${labels([["node", r.node], ...INFO_LABELS.map((l): [string, string] => [l.label, text(r.values[l.object]) || l.fallback])])} 1\n`,
  },
  // Then each part of NodeState's own families (agent/state/<part>.ts).
  ...PARTS.flatMap((part) => part.fleet.map((f): Family => ({ name: f.name, help: f.help, samples: (r, _f, node) => f.samples(r.values, node) }))),
];

export function renderFleetMetrics(fleet: FleetState): string {
  const records = [...fleet.nodes.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  const nodes = records.map((r) => escapeLabel(r.node));
  const parts: string[] = [];
  for (const family of FAMILIES) {
    parts.push(`# HELP ${family.name} ${family.help}\n# TYPE ${family.name} gauge\n`);
    for (let i = 0; i < records.length; i++) parts.push(family.samples(records[i], fleet, nodes[i]));
  }
  return parts.join("");
}
