// On a monitored node: the verdicts of the two flows the scraper opens to it (tcp/9100 to
// node-exporter, udp/161 to snmpd), from what tailscaled holds: its packet filter and shields-up,
// or, when the filter cannot be read, why not and what a person does about it.
import { decideInbound, type FilterVerdict } from "./filter-verdict";
import { flowById } from "./flows";
import { compileFilter, type Compiled, type FilterRule } from "./packet-filter";

/** The flows the node's own filter decides; notify-scraper is decided by the scraper's. */
export type NodeFlowId = "scrape-node-exporter" | "poll-snmpd";

export interface NodeFlowVerdict {
  id: NodeFlowId;
  verdict: FilterVerdict;
  /**
   * "rule N: {...}" (the filter entry, index and text), "default deny: ...", or a keyword when no
   * rule decided: shields-up, scraper-jailed, no-netmap, localapi-permission, filter-refused,
   * no-shared-family.
   */
  decidedBy: string;
  reason?: string;
}

/** What tailscaled told about its filter. */
export type FilterSource =
  | { kind: "rules"; rules: FilterRule[]; shieldsUp: boolean; scraperJailed: boolean }
  | { kind: "no-netmap" }
  /** The filter is only readable with LocalAPI write access, which `user` lacks. */
  | { kind: "permission"; user: string };

export const NODE_FLOWS: NodeFlowId[] = ["scrape-node-exporter", "poll-snmpd"];

/** The command that gives `user` LocalAPI write access (tailscaled has one operator). */
export function operatorCommand(user: string): string {
  return `sudo tailscale set --operator=${user}`;
}

function one(id: NodeFlowId, source: FilterSource, selfIps: string[], scraperIps: string[], compiled: () => Compiled): NodeFlowVerdict {
  switch (source.kind) {
    case "no-netmap":
      return { id, verdict: "unknown", decidedBy: "no-netmap", reason: "tailscaled has no network map (logged out or not connected to control): it lets nothing in until it has one; see `tailscale status`" };
    case "permission":
      return {
        id, verdict: "unknown", decidedBy: "localapi-permission",
        reason: `this tailscaled gives its packet filter only to root or its operator, and ${source.user} is neither: ${operatorCommand(source.user)} (replaces any other operator; it also lets ${source.user} change every tailscaled setting)`,
      };
    case "rules": {
      if (source.shieldsUp) return { id, verdict: "drop", decidedBy: "shields-up", reason: "tailscaled runs with shields up and refuses every incoming connection whatever the policy says: sudo tailscale set --shields-up=false" };
      if (source.scraperJailed) return { id, verdict: "drop", decidedBy: "scraper-jailed", reason: "control marks the scraper as jailed: tailscaled refuses every connection it opens, as with shields up" };
      const flow = flowById(id);
      return { id, ...decideInbound(source.rules, { proto: flow.proto, port: flow.port }, scraperIps, selfIps, compiled()) };
    }
  }
}

/** Pure: both flows' verdicts. */
export function nodeFlowVerdicts(source: FilterSource, selfIps: string[], scraperIps: string[]): NodeFlowVerdict[] {
  let compiled: Compiled | undefined;
  const once = () => (compiled ??= compileFilter(source.kind === "rules" ? source.rules : []));
  return NODE_FLOWS.map((id) => one(id, source, selfIps, scraperIps, once));
}
