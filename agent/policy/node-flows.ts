// On a monitored node: the verdicts of the two flows the scraper opens to it (tcp/9100 to
// node-exporter, udp/161 to snmpd), from what tailscaled holds: its packet filter and shields-up,
// or, when the filter cannot be read, why not and what a person does about it.
import { decisionWithoutRules, type FilterSource } from "./filter-source";
import { decideInbound, type FilterVerdict } from "./filter-verdict";
import { flowById } from "./flows";
import { compileFilter } from "./packet-filter";

/** The flows the node's own filter decides; notify-scraper is decided by the scraper's. */
export type NodeFlowId = "scrape-node-exporter" | "poll-snmpd";

export interface NodeFlowVerdict {
  id: NodeFlowId;
  verdict: FilterVerdict;
  /**
   * "rule N: {...}" (the filter entry, index and text), "default deny: ...", or a keyword when no
   * rule decided: shields-up, peer-jailed, no-netmap, localapi-permission, filter-refused,
   * no-shared-family.
   */
  decidedBy: string;
  reason?: string;
}

export const NODE_FLOWS: NodeFlowId[] = ["scrape-node-exporter", "poll-snmpd"];

/** Pure: both flows' verdicts. */
export function nodeFlowVerdicts(source: FilterSource, selfIps: string[], scraperIps: string[]): NodeFlowVerdict[] {
  const fixed = decisionWithoutRules(source, scraperIps, "the scraper", "this node");
  if (fixed || source.kind !== "rules") return NODE_FLOWS.map((id) => ({ id, ...fixed! }));
  const compiled = compileFilter(source.rules);
  return NODE_FLOWS.map((id) => {
    const flow = flowById(id);
    return { id, ...decideInbound(source.rules, { proto: flow.proto, port: flow.port }, scraperIps, selfIps, compiled) };
  });
}
