// The object values of one node's notification as FleetState takes them, for the receiver's unit
// tests: its names, the sequence, event time and summary, and whatever else a test adds.
import type { ObjectValues } from "../../agent/snmp/state-objects";

export function notificationValues(node: string, sequence: number, atMs: number, extra: ObjectValues = {}): ObjectValues {
  return {
    edgeAgentHostName: node,
    edgeAgentTailnetName: `${node}.example-tailnet.ts.net`,
    edgeAgentNotificationSequence: sequence,
    edgeAgentEventTime: new Date(atMs).toISOString(),
    edgeAgentEventSummary: `event ${sequence}`,
    ...extra,
  };
}
