// On the scraper: may each fleet node's Tailscale addresses reach udp/162 here (flow
// notify-scraper)? A trap or inform opens a new flow from the node, so the receiving side, this
// scraper, decides it with its own packet filter.
import { decisionWithoutRules, type FilterSource } from "./filter-source";
import { decideInbound, type FlowDecision } from "./filter-verdict";
import { flowById } from "./flows";
import { compileFilter } from "./packet-filter";

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
export function notifyVerdicts(source: FilterSource, scraperIps: string[], nodes: FleetNode[]): NotifyVerdict[] {
  const flow = flowById("notify-scraper");
  const compiled = source.kind === "rules" ? compileFilter(source.rules) : null;
  return nodes.map((node) => {
    // Without rules (no netmap, no permission) decisionWithoutRules always answers.
    const fixed = decisionWithoutRules(source, node.ips, node.name, "the scraper");
    const decision = source.kind === "rules" && !fixed ? decideInbound(source.rules, { proto: flow.proto, port: flow.port }, node.ips, scraperIps, compiled!) : fixed!;
    return { id: "notify-scraper", node: node.name, ...decision };
  });
}
