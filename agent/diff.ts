// What changed between two NodeStates, as events, and what is wrong in the first one. Pure: the
// daemon, `status` and the tests all see the same changes for the same two snapshots. Each part
// of NodeState says which of its changes are events (agent/state/<part>.ts); this only asks them.
import type { NodeState } from "./state/node-state";
import { PARTS } from "./state/parts";
import type { ServiceName } from "./state/services";

export type { ServiceName } from "./state/services";

/** Every kind of event; each is one EDGE-AGENT-MIB notification, defined by the part it is about. */
export const EVENT_KINDS = ["agentStarted", "heartbeat", "addressChanged", "tailnetChanged", "pathChanged", "serviceDown", "serviceUp", "firewallChanged", "policyChanged", "test"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface StateEvent {
  kind: EventKind;
  /** Which service, for serviceDown/serviceUp. */
  service?: ServiceName;
  /** One line a person can read in a log or a trap receiver. */
  summary: string;
}

/**
 * Events for the change from `prev` to `next`. With no previous snapshot (the agent just
 * started) the only event is agentStarted: a start is not a change.
 */
export function diff(prev: NodeState | null, next: NodeState): StateEvent[] {
  if (!prev) return [{ kind: "agentStarted", summary: `agent ${next.agent.version} started` }];
  return PARTS.flatMap((part) => part.events(prev, next));
}

/**
 * What a first snapshot finds missing: each source that could not be read, a tailscaled that is
 * not Running, each service that is down, with the reason and worded as the change events word
 * it. A start is not a change, so these are not events; the daemon logs them, so that the journal
 * says from the start what is missing. Verdicts, tags and the path are the metrics' and doctor's.
 */
export function problemsAtStart(state: NodeState): string[] {
  return PARTS.flatMap((part) => part.problemsAtStart(state));
}
