// What a bench node reports: every EDGE-AGENT-MIB object, filled as the agent fills them (25
// varbinds with sysUpTime and snmpTrapOID), for the receiver benches' traps
// (lib/v2c-traps.ts) and receiver-state.ts's fleet.
import type { ObjectValues } from "../../../agent/snmp/state-objects";

export function nodeValues(node: string, sequence: number, at: Date, overrides: Partial<ObjectValues> = {}): ObjectValues {
  return {
    edgeAgentHostName: node, edgeAgentTailnetName: `${node}.example-tailnet.ts.net`, edgeAgentTailnetTags: "tag:monitor",
    edgeAgentTailnetAddresses: "127.0.0.1", edgeAgentTailnetState: "Running", edgeAgentPrimaryPrefix: "2001:db8:100:1::/64",
    edgeAgentPrefixInAllocation: "inside", edgeAgentScraperPath: "direct", edgeAgentScraperFamily: "ipv6",
    edgeAgentScraperEndpoint: "[2001:db8:200:1::1]:41641", edgeAgentNodeExporterUp: true, edgeAgentSnmpdUp: true,
    edgeAgentFirewallPort: 41641, edgeAgentFirewallInboundIpv6: "accept", edgeAgentFirewallInboundIpv4: "accept",
    edgeAgentFirewallOutboundIpv6: "accept", edgeAgentFirewallOutboundIpv4: "accept", edgeAgentFirewallForwardIpv6: "unknown",
    edgeAgentVersion: "0.1.0", edgeAgentNotificationSequence: sequence, edgeAgentEventTime: at.toISOString(),
    edgeAgentEventSummary: "bench heartbeat", edgeAgentEventService: "none",
    ...overrides,
  };
}
