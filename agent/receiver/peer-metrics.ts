// The per-node series that come from the scraper's own tailscaled rather than from what nodes
// reported: edge_fleet_node_silent (tagged peers: is the agent silent past its window) and
// edge_fleet_node_notify_verdict (every node: does the scraper's packet filter admit its
// udp/162). Pure text building, like fleet-metrics.ts; appended after its families.
import { escapeLabel } from "./escape-label";
import { countLines, header, type NodeSeries } from "./fleet-metrics";
import type { Coverage } from "./peers";

/** What a peer family needs beside the coverage: whether the fleet holds the node as stale. */
interface PeerSample {
  c: Coverage;
  node: string;
  stale: boolean;
}

export const PEER_FAMILIES = [
  {
    name: "edge_fleet_node_silent",
    help: "Peers of the scraper carrying receiver.nodeTag: 1 when no notification from the node's agent arrived within the stale window since it was first seen (tagged, agent silent), else 0 (its agent reports, or the window has not passed yet). Under receiver.nodeSeries problems only the 1s are written.",
    samples: ({ c, node }: PeerSample, mode: NodeSeries) => (c.silent === null || (mode === "problems" && !c.silent) ? "" : `edge_fleet_node_silent{node="${node}"} ${c.silent ? 1 : 0}\n`),
  },
  {
    name: "edge_fleet_node_notify_verdict",
    help: "Always 1; verdict says whether the scraper's tailscaled packet filter admits udp/162 (flow notify-scraper) from the node's Tailscale addresses: accept, drop or unknown. Absent while the filter was never read; under receiver.nodeSeries problems written only for a drop and for nodes that are silent or stale (where it says why).",
    samples: ({ c, node, stale }: PeerSample, mode: NodeSeries) =>
      c.verdict === null || (mode === "problems" && c.verdict.verdict !== "drop" && c.silent !== true && !stale) ? "" : `edge_fleet_node_notify_verdict{node="${node}",verdict="${c.verdict.verdict}"} 1\n`,
  },
] as const;

/** Nodes per notify-scraper verdict, every node with one counted (edge_fleet_nodes_by_notify_verdict). */
function verdictCounts(coverage: Coverage[]): string {
  const counts = new Map<string, number>();
  for (const c of coverage) {
    if (!c.verdict) continue;
    const key = `verdict="${c.verdict.verdict}"`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const name = "edge_fleet_nodes_by_notify_verdict";
  return header(name, "Nodes per verdict of the scraper's tailscaled packet filter on their udp/162 (accept, drop, unknown).") + countLines(name, counts);
}

export function renderPeerMetrics(coverage: Coverage[], mode: NodeSeries = "problems", isStale: (node: string) => boolean = () => false): string {
  const samples = coverage.map((c): PeerSample => ({ c, node: escapeLabel(c.node), stale: isStale(c.node) }));
  const parts: string[] = [];
  for (const family of PEER_FAMILIES) {
    parts.push(header(family.name, family.help));
    for (const sample of samples) parts.push(family.samples(sample, mode));
  }
  parts.push(verdictCounts(coverage));
  return parts.join("");
}
