// FleetState -> the per-node edge_fleet_node_* series in Prometheus's text format. Pure and
// written by hand rather than through prom-client gauges: with 10,000 nodes that is ~100,000
// series per scrape, and prom-client's per-sample label hashing took seconds where plain string
// building takes milliseconds (scripts/bench/receiver.ts). The receiver's own counters stay in
// its prom-client registry.
import { pathLabel } from "./file-sd";
import type { FleetState, NodeRecord } from "./fleet-state";

const FIREWALL: [string, string][] = [
  ["edgeAgentFirewallInboundIpv6", "inbound-ipv6"],
  ["edgeAgentFirewallInboundIpv4", "inbound-ipv4"],
  ["edgeAgentFirewallOutboundIpv6", "outbound-ipv6"],
  ["edgeAgentFirewallOutboundIpv4", "outbound-ipv4"],
  ["edgeAgentFirewallForwardIpv6", "forward-ipv6"],
];

const str = (value: unknown): string => (typeof value === "string" ? value : "");

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
export function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : value;
}

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
    samples: (r) => {
      const v = r.values;
      return `edge_fleet_node_info${labels([
        ["node", r.node],
        ["tailnet_name", str(v.edgeAgentTailnetName)],
        ["hostname", str(v.edgeAgentHostName)],
        ["tags", str(v.edgeAgentTailnetTags)],
        ["prefix", str(v.edgeAgentPrimaryPrefix)],
        ["prefix_in_allocation", str(v.edgeAgentPrefixInAllocation) || "unknown"],
        ["tailnet_state", str(v.edgeAgentTailnetState)],
        ["version", str(v.edgeAgentVersion)],
      ])} 1\n`;
    },
  },
  {
    name: "edge_fleet_node_scraper_path",
    help: "Always 1; path says how the node reaches the scraper (direct, relay, peer-relay, idle, offline, unknown), family the direct path's address family.",
    samples: (r, _f, node) => `edge_fleet_node_scraper_path{node="${node}",path="${escapeLabel(pathLabel(r.values))}",family="${escapeLabel(str(r.values.edgeAgentScraperFamily) || "none")}"} 1\n`,
  },
  {
    name: "edge_fleet_node_firewall_verdict",
    help: "Always 1; verdict is the node's firewall verdict (accept, drop, unknown) on tailscaled's UDP port for each check.",
    samples: (r, _f, node) => FIREWALL.map(([object, check]) => `edge_fleet_node_firewall_verdict{node="${node}",check="${check}",verdict="${escapeLabel(str(r.values[object]) || "unknown")}"} 1\n`).join(""),
  },
  {
    name: "edge_fleet_node_service_up",
    help: "1 when the node reported the service answering, else 0.",
    samples: (r, _f, node) =>
      `edge_fleet_node_service_up{node="${node}",service="node_exporter"} ${r.values.edgeAgentNodeExporterUp === true ? 1 : 0}\n` +
      `edge_fleet_node_service_up{node="${node}",service="snmpd"} ${r.values.edgeAgentSnmpdUp === true ? 1 : 0}\n`,
  },
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
