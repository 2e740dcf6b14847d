// FleetState -> a Prometheus file_sd document (and the same targets for http_sd): `<node>:9100` for every node whose last report
// said node-exporter is up, one target group per node with its labels. Pure; the receiver writes
// the text atomically, and only when it changed.
//
// Peers of the scraper carrying receiver.nodeTag whose agent never reported are targets too, so a
// node without an agent is not a blind spot; the `agent` label tells them ("silent") from nodes
// whose agent reports ("reporting").
//
// A node that goes stale keeps its target: Prometheus's own `up == 0` then tells the scrape
// failed, where removing it would hide the node. A node whose node-exporter reported down is left
// out (as asked), and EdgeServiceDown covers it.
import { pathLabel } from "../state/tailnet";
import type { FleetState } from "./fleet-state";
import { isTargetName } from "./limits";
import type { TaggedPeer } from "./tagged-peers";

export const NODE_EXPORTER_PORT = 9100;

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}


export function fileSdGroups(fleet: FleetState, unreported: readonly TaggedPeer[] = []): TargetGroup[] {
  const groups: TargetGroup[] = [];
  for (const record of fleet.nodes.values()) {
    const v = record.values;
    // Only a DNS label becomes a target (a record saved by an older version may hold any name).
    if (v.edgeAgentNodeExporterUp !== true || !isTargetName(record.node)) continue;
    groups.push({
      targets: [`${record.node}:${NODE_EXPORTER_PORT}`],
      // Target labels land on every series of the node job, and Prometheus renames a scraped
      // label they shadow to exported_<name>: these names must not be ones the edge_agent_*
      // textfile metrics use (tags, prefix, path).
      labels: {
        node: record.node,
        tailnet_tags: typeof v.edgeAgentTailnetTags === "string" ? v.edgeAgentTailnetTags : "",
        ipv6_prefix: typeof v.edgeAgentPrimaryPrefix === "string" ? v.edgeAgentPrimaryPrefix : "",
        scraper_path: pathLabel(v),
        agent: "reporting",
      },
    });
  }
  for (const peer of unreported) {
    if (fleet.nodes.has(peer.node) || !isTargetName(peer.node)) continue;
    groups.push({ targets: [`${peer.node}:${NODE_EXPORTER_PORT}`], labels: { node: peer.node, tailnet_tags: peer.tags.join(","), ipv6_prefix: "", scraper_path: "", agent: "silent" } });
  }
  return groups.sort((a, b) => (a.labels.node < b.labels.node ? -1 : a.labels.node > b.labels.node ? 1 : 0));
}

/**
 * YAML written by hand: each scalar as a JSON string, which YAML reads as a double-quoted
 * scalar. The yaml library's document builder took far longer and made far more garbage for a
 * 10,000-node fleet, and this file is re-rendered whenever a node changes.
 */
export function renderFileSd(groups: TargetGroup[]): string {
  const header = "# Written by edge-agent receive from the fleet's notifications; edits are overwritten.\n";
  if (groups.length === 0) return `${header}[]\n`;
  const parts = [header];
  for (const g of groups) {
    const labels = Object.entries(g.labels).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ");
    parts.push(`- targets: [${g.targets.map((t) => JSON.stringify(t)).join(", ")}]\n  labels: {${labels}}\n`);
  }
  return parts.join("");
}

/**
 * The same groups as Prometheus's http_sd_configs reads them (GET /targets on receiver.metrics):
 * a JSON array of {targets, labels}. For Prometheus servers on other hosts than the receiver, e.g.
 * shards that each keep their share of the targets with `hashmod`.
 */
export function renderHttpSd(groups: TargetGroup[]): string {
  return JSON.stringify(groups);
}
