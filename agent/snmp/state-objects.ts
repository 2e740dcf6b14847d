// NodeState -> the values of EDGE-AGENT-MIB's objects, by descriptor, as each part of NodeState
// defines them. Pure; the notifier and the AgentX subagent both serve these values, so a trap and
// a poll never disagree.
import type { ServiceName } from "../diff";
import type { NodeState } from "../state/node-state";
import { PARTS } from "../state/parts";

/** Logical values: strings, booleans, numbers; enums by label (see oid-tree.ts). */
export type ObjectValues = Record<string, string | number | boolean>;

/** The read-only objects: what AgentX serves and every notification carries. */
export function stateObjects(state: NodeState): ObjectValues {
  const values: ObjectValues = {};
  for (const part of PARTS) for (const object of part.objects) values[object.name] = object.value(state);
  return values;
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
