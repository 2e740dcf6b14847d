// NodeState -> the values of EDGE-AGENT-MIB's objects, by descriptor. Pure; the notifier and
// the AgentX subagent both serve these values, so a trap and a poll never disagree.
import { runningTailnet, type NodeState } from "../state/node-state";
import type { ServiceName } from "../diff";

/** Logical values: strings, booleans, numbers; enums by label (see oid-tree.ts). */
export type ObjectValues = Record<string, string | number | boolean>;

function verdictOf(state: NodeState, id: string): string {
  const f = state.firewall;
  if (!f || f.state === "unavailable") return "unknown";
  return f.checks.find((c) => c.id === id)?.verdict ?? "unknown";
}

function primaryInAllocation(state: NodeState): string {
  const ipv6 = state.ipv6;
  if (ipv6.state === "unavailable" || !ipv6.primary) return "unknown";
  const primary = ipv6.prefixes.find((p) => p.prefix === ipv6.primary);
  if (!primary || primary.inAllocation === null) return "unknown";
  return primary.inAllocation ? "inside" : "outside";
}

/** The read-only objects: what AgentX serves and every notification carries. */
export function stateObjects(state: NodeState): ObjectValues {
  const t = runningTailnet(state.tailnet);
  const path = t?.scraper.path ?? "unknown";
  const firewall = state.firewall && state.firewall.state === "ok" ? state.firewall : null;
  return {
    edgeAgentHostName: state.host.state === "ok" ? state.host.hostname : "",
    edgeAgentTailnetName: t?.dnsName ?? "",
    edgeAgentTailnetTags: t ? t.tags.join(",") : "",
    edgeAgentTailnetAddresses: t ? t.ips.join(",") : "",
    edgeAgentTailnetState: t ? t.state : "unavailable",
    edgeAgentPrimaryPrefix: state.ipv6.state === "ok" ? state.ipv6.primary ?? "" : "",
    edgeAgentPrefixInAllocation: primaryInAllocation(state),
    edgeAgentScraperPath: path === "peer-relay" ? "peerRelay" : path,
    edgeAgentScraperFamily: t && path === "direct" ? t.scraper.family ?? "none" : "none",
    edgeAgentScraperEndpoint: t ? (path === "direct" ? t.scraper.endpoint ?? "" : t.scraper.relay ?? "") : "",
    edgeAgentNodeExporterUp: state.services.nodeExporter.up,
    edgeAgentSnmpdUp: state.services.snmpd.up,
    edgeAgentFirewallPort: firewall?.port ?? 0,
    edgeAgentFirewallInboundIpv6: verdictOf(state, "inbound-ipv6"),
    edgeAgentFirewallInboundIpv4: verdictOf(state, "inbound-ipv4"),
    edgeAgentFirewallOutboundIpv6: verdictOf(state, "outbound-ipv6"),
    edgeAgentFirewallOutboundIpv4: verdictOf(state, "outbound-ipv4"),
    edgeAgentFirewallForwardIpv6: verdictOf(state, "forward-ipv6"),
    edgeAgentVersion: state.agent.version,
  };
}

export interface EventMeta {
  sequence: number;
  /** ISO time the event happened. */
  at: string;
  summary: string;
  service?: ServiceName;
}

/** All objects of a notification: the state plus the event's sequence, time and summary. */
export function notificationObjects(state: ObjectValues, meta: EventMeta): ObjectValues {
  return {
    ...state,
    edgeAgentNotificationSequence: meta.sequence,
    edgeAgentEventTime: meta.at,
    edgeAgentEventSummary: meta.summary,
    edgeAgentEventService: meta.service ?? "none",
  };
}
