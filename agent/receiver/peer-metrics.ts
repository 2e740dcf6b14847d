// The per-node series that come from the scraper's own tailscaled rather than from what nodes
// reported: edge_fleet_node_silent (tagged peers: is the agent silent past its window) and
// edge_fleet_node_notify_verdict (every node: does the scraper's packet filter admit its
// udp/162). Pure text building, like fleet-metrics.ts; appended after its families.
import { escapeLabel } from "./escape-label";
import type { Coverage } from "./peers";

export const PEER_FAMILIES = [
  {
    name: "edge_fleet_node_silent",
    help: "Peers of the scraper carrying receiver.nodeTag: 1 when no notification from the node's agent arrived within the stale window since it was first seen (tagged, agent silent), else 0 (its agent reports, or the window has not passed yet).",
    samples: (c: Coverage, node: string) => (c.silent === null ? "" : `edge_fleet_node_silent{node="${node}"} ${c.silent ? 1 : 0}\n`),
  },
  {
    name: "edge_fleet_node_notify_verdict",
    help: "Always 1; verdict says whether the scraper's tailscaled packet filter admits udp/162 (flow notify-scraper) from the node's Tailscale addresses: accept, drop or unknown. Absent while the filter was never read.",
    samples: (c: Coverage, node: string) => (c.verdict === null ? "" : `edge_fleet_node_notify_verdict{node="${node}",verdict="${c.verdict.verdict}"} 1\n`),
  },
] as const;

export function renderPeerMetrics(coverage: Coverage[]): string {
  const nodes = coverage.map((c) => escapeLabel(c.node));
  const parts: string[] = [];
  for (const family of PEER_FAMILIES) {
    parts.push(`# HELP ${family.name} ${family.help}\n# TYPE ${family.name} gauge\n`);
    for (let i = 0; i < coverage.length; i++) parts.push(family.samples(coverage[i], nodes[i]));
  }
  return parts.join("");
}
