// EDGE-AGENT-MIB's one OID tree: every object and notification, its sub-identifier, syntax and
// description, gathered from the parts of NodeState that define them (agent/state/<part>.ts).
// The MIB text, the notifier, the AgentX subagent and the receiver all read this tree, so they
// cannot drift apart. The tree hangs under a base OID that an operator may move
// under their own enterprise number (`--base-oid`); sender and receiver must use the same one.
import type { EventKind } from "../diff";
import { PARTS } from "../state/parts";
import { SERVICE_VALUES } from "../state/services";

/**
 * Default root: an arc under `experimental` (RFC 1155: 1.3.6.1.3), which IANA leaves for
 * experiments. It is not registered to this project: an operator with a Private Enterprise
 * Number should re-root the tree under it (e.g. 1.3.6.1.4.1.<PEN>.1).
 */
export const DEFAULT_BASE_OID = "1.3.6.1.3.9163";

export type Syntax =
  | { kind: "DisplayString"; size?: [number, number] }
  | { kind: "TruthValue" }
  | { kind: "Unsigned32" }
  | { kind: "DateAndTime" }
  | { kind: "Enum"; values: Record<string, number> };

export interface ObjectDef {
  /** MIB descriptor, e.g. edgeAgentHostName. */
  name: string;
  /** Sub-identifier under edgeAgentObjects. */
  id: number;
  syntax: Syntax;
  /** read-only objects are served over AgentX too; accessible-for-notify only ride in notifications. */
  access: "read-only" | "accessible-for-notify";
  description: string;
}

export interface NotificationDef {
  name: string;
  /** Sub-identifier under edgeAgentNotifications (the .0 arc, so v1 translation is clean). */
  id: number;
  event: EventKind;
  description: string;
}

/**
 * The objects each part of NodeState defines (agent/state/<part>.ts), then the ones only
 * notifications carry, in sub-identifier order: the MIB text, AgentX and every notification list
 * them in this order. A new object takes the next free sub-identifier; existing ones never move.
 */
const EVENT_OBJECTS: readonly ObjectDef[] = [
  { name: "edgeAgentNotificationSequence", id: 20, access: "accessible-for-notify", syntax: { kind: "Unsigned32" }, description: "The sender's sequence number of this notification, increasing by one per notification and kept across restarts, so a receiver can order replays from the outbox and drop duplicates." },
  { name: "edgeAgentEventTime", id: 21, access: "accessible-for-notify", syntax: { kind: "DateAndTime" }, description: "When the event happened (UTC), which for a replayed notification is earlier than when it was sent." },
  { name: "edgeAgentEventSummary", id: 22, access: "accessible-for-notify", syntax: { kind: "DisplayString", size: [0, 255] }, description: "One line saying what changed, for people reading a trap log." },
  { name: "edgeAgentEventService", id: 23, access: "accessible-for-notify", syntax: { kind: "Enum", values: SERVICE_VALUES }, description: "The service a serviceDown or serviceUp notification is about; none otherwise." },
];

export const OBJECTS: readonly ObjectDef[] = [...PARTS.flatMap((part) => part.objects), ...EVENT_OBJECTS].sort((a, b) => a.id - b.id);

/** Each part's notifications (agent/state/<part>.ts), in sub-identifier order. */
export const NOTIFICATIONS: readonly NotificationDef[] = PARTS.flatMap((part) => part.notifications).sort((a, b) => a.id - b.id);

/** Every notification carries every object, so a receiver's view of a node is whole after one. */
export const NOTIFICATION_OBJECTS: readonly string[] = OBJECTS.map((o) => o.name);

export interface OidTree {
  base: string;
  module: string;
  objects: string;
  notifications: string;
  conformance: string;
  objectOid: (name: string) => string;
  notificationOid: (event: EventKind) => string;
  /** The object or notification an OID names (instance suffix .0 allowed), or null. */
  nameOf: (oid: string) => { kind: "object" | "notification"; def: ObjectDef | NotificationDef } | null;
}

export function isValidOid(oid: string): boolean {
  return /^[0-2](\.(0|[1-9]\d{0,9}))+$/.test(oid) && oid.split(".").every((part) => Number(part) <= 4294967295);
}

export function oidTree(base: string = DEFAULT_BASE_OID): OidTree {
  if (!isValidOid(base)) throw new Error(`"${base}" is not an OID (expected dotted numbers like 1.3.6.1.4.1.99999.1)`);
  const objects = `${base}.1`;
  const notifications = `${base}.0`;
  const byObjectOid = new Map(OBJECTS.map((o) => [`${objects}.${o.id}`, o]));
  const byNotificationOid = new Map(NOTIFICATIONS.map((n) => [`${notifications}.${n.id}`, n]));
  return {
    base,
    module: base,
    objects,
    notifications,
    conformance: `${base}.2`,
    objectOid: (name) => {
      const def = OBJECTS.find((o) => o.name === name);
      if (!def) throw new Error(`no object ${name} in EDGE-AGENT-MIB`);
      return `${objects}.${def.id}`;
    },
    notificationOid: (event) => `${notifications}.${NOTIFICATIONS.find((n) => n.event === event)!.id}`,
    nameOf: (oid) => {
      const n = byNotificationOid.get(oid);
      if (n) return { kind: "notification", def: n };
      const o = byObjectOid.get(oid) ?? byObjectOid.get(oid.replace(/\.0$/, ""));
      return o ? { kind: "object", def: o } : null;
    },
  };
}
