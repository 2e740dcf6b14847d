// On the scraper: may each fleet node's Tailscale addresses reach udp/162 here (flow
// notify-scraper)? A trap or inform opens a new flow from the node, so the receiving side, this
// scraper, decides it with its own packet filter.
import { decideInbound, type FlowDecision } from "./filter-verdict";
import { flowById } from "./flows";
import { compileFilter, type FilterRule } from "./packet-filter";

export interface FleetNode {
  /** How the receiver names the node (its host name). */
  name: string;
  ips: string[];
}

export interface NotifyVerdict extends FlowDecision {
  id: "notify-scraper";
  node: string;
}

/** Pure: one verdict per node from the scraper's filter and its own Tailscale addresses. */
export function notifyVerdicts(rules: FilterRule[], scraperIps: string[], nodes: FleetNode[], shieldsUp = false): NotifyVerdict[] {
  const flow = flowById("notify-scraper");
  const compiled = compileFilter(rules);
  return nodes.map((node) => {
    if (shieldsUp) return { id: "notify-scraper", node: node.name, verdict: "drop", decidedBy: "shields-up", reason: "this scraper's tailscaled runs with shields up and refuses every notification: sudo tailscale set --shields-up=false" };
    return { id: "notify-scraper", node: node.name, ...decideInbound(rules, { proto: flow.proto, port: flow.port }, node.ips, scraperIps, compiled) };
  });
}
