// FleetState: what the receiver knows about every node that reported — the latest object
// values, when it was last heard from, and the sequence numbers it has used. Pure (time is
// passed in); the receiver feeds it notifications and the outputs read it.
//
// Duplicates and replays. Every notification carries the sender's sequence number (kept across
// the sender's restarts) and the event's time. Informs are retransmitted and the outbox replays
// unacknowledged notifications, so one notification may arrive several times and out of order:
// - a sequence above the last one seen is new: its values become the node's state;
// - a sequence at or below the last one, with an event time no later than the last one's, is an
//   old notification: a duplicate if it was seen (a 32-wide window of recent sequences says),
//   else a late arrival — logged, but it does not overwrite the newer state;
// - a sequence at or below the last one whose event time is LATER than the last one's means the
//   sender's counter started again (its state directory was lost, or the 32-bit counter wrapped):
//   it is new, and the sequence history restarts from it.
// Event times come from the sender's own clock, so they order its notifications without needing
// the scraper's clock to agree.
//
// Staleness. A node is stale when nothing was heard from it for `staleAfterHeartbeats` heartbeat
// intervals. The interval is learned per node: the shortest of the last three gaps between its
// heartbeats (lost heartbeats only make gaps longer, so the shortest is the real interval); until
// two heartbeats were seen it is `run.heartbeat` from the receiver's config. After the receiver
// itself starts, nodes get one full stale period before they can be stale, so a receiver that was
// down does not report the whole fleet stale.
import type { EventKind } from "../diff";
import type { ObjectValues } from "../snmp/state-objects";
import { compactValues } from "./compact-values";
import { fleetFileBytes, savedNodes, type FleetFile } from "./fleet-file";

export interface NodeRecord {
  /** The node's short tailnet name (first label of its MagicDNS name), or its host name. */
  node: string;
  values: ObjectValues;
  /** When the receiver last accepted a notification from it (ms since the epoch). */
  lastSeenMs: number;
  lastSequence: number;
  /** Event time (sender's clock) of the notification with lastSequence. */
  lastEventMs: number;
  /** Bit i set: sequence lastSequence-1-i was seen. */
  window: number;
  lastEvent: EventKind;
  lastSummary: string;
  source: string;
  lastHeartbeatEventMs: number | null;
  heartbeatGapsMs: number[];
  stale: boolean;
}

export interface FleetOptions {
  defaultHeartbeatMs: number;
  staleAfterHeartbeats: number;
  /** Nodes not heard from for this long are forgotten. */
  forgetAfterMs: number;
  maxNodes: number;
}

export type ApplyResult =
  | { kind: "new"; node: string; firstSeen: boolean; counterReset: boolean; record: NodeRecord }
  | { kind: "late"; node: string; record: NodeRecord }
  | { kind: "duplicate"; node: string }
  | { kind: "invalid"; problem: string }
  | { kind: "full"; node: string };

const WINDOW = 32;
const GAPS_KEPT = 3;
/** Gaps shorter than this are not heartbeat intervals (a retransmission or a burst). */
const MIN_GAP_MS = 1000;

/** The node key a notification's values name: first label of the tailnet name, else host name. */
export function nodeName(values: ObjectValues): string | null {
  const tailnet = typeof values.edgeAgentTailnetName === "string" ? firstLabel(values.edgeAgentTailnetName) : "";
  if (tailnet) return tailnet;
  const host = typeof values.edgeAgentHostName === "string" ? firstLabel(values.edgeAgentHostName) : "";
  return host || null;
}

/** "Host1.example.ts.net." -> "host1" (asked twice per notification: no regular expression, no split). */
function firstLabel(name: string): string {
  const text = name.trim().toLowerCase();
  const dot = text.indexOf(".");
  return dot < 0 ? text : text.slice(0, dot);
}

/** What changes with every notification, and so says nothing about the node's state. */
const PER_NOTIFICATION = new Set(["edgeAgentNotificationSequence", "edgeAgentEventTime", "edgeAgentEventSummary"]);

/** Whether two nodes' values (compact: every object present) report the same state. */
function sameState(a: ObjectValues, b: ObjectValues): boolean {
  for (const name in b) if (a[name] !== b[name] && !PER_NOTIFICATION.has(name)) return false;
  return true;
}

function advanceWindow(window: number, by: number): number {
  if (by > WINDOW) return 0;
  const shifted = by === WINDOW ? 0 : (window << by) >>> 0;
  return (shifted | (1 << (by - 1))) >>> 0;
}

export class FleetState {
  readonly nodes = new Map<string, NodeRecord>();
  /** Source address -> the node last accepted from it (for identity without tailscaled). */
  private readonly bySource = new Map<string, string>();
  /** Bumped on every change an output cares about (values, membership, staleness). */
  generation = 0;
  /**
   * Bumped only when a node comes or goes or reports different state (not a new sequence, event
   * time or summary alone): the file_sd targets follow this, so a flood of heartbeats from a large
   * fleet does not rebuild them every second just to find them unchanged.
   */
  stateGeneration = 0;

  /** Something the outputs show beside the records changed (the scraper's tagged peers). */
  outsideChange(): void {
    this.generation++;
    this.stateGeneration++;
  }

  constructor(
    public options: FleetOptions,
    readonly startedAtMs: number,
  ) {}

  apply(values: ObjectValues, event: EventKind, receivedMs: number, source: string): ApplyResult {
    const node = nodeName(values);
    if (!node) return { kind: "invalid", problem: "it names no node (edgeAgentTailnetName and edgeAgentHostName are empty or missing)" };
    const sequence = values.edgeAgentNotificationSequence;
    if (typeof sequence !== "number") return { kind: "invalid", problem: "it carries no edgeAgentNotificationSequence" };
    const parsed = typeof values.edgeAgentEventTime === "string" ? Date.parse(values.edgeAgentEventTime) : NaN;
    const eventMs = Number.isFinite(parsed) ? parsed : receivedMs;
    const summary = typeof values.edgeAgentEventSummary === "string" ? values.edgeAgentEventSummary : "";
    const existing = this.nodes.get(node);
    if (!existing) {
      if (this.nodes.size >= this.options.maxNodes) return { kind: "full", node };
      const record: NodeRecord = {
        node, values: compactValues(values), lastSeenMs: receivedMs, lastSequence: sequence, lastEventMs: eventMs, window: 0,
        lastEvent: event, lastSummary: summary, source, lastHeartbeatEventMs: null, heartbeatGapsMs: [], stale: false,
      };
      this.learnHeartbeat(record, event, eventMs);
      this.nodes.set(node, record);
      this.bind(node, source);
      this.generation++;
      this.stateGeneration++;
      return { kind: "new", node, firstSeen: true, counterReset: false, record };
    }
    let counterReset = false;
    if (sequence > existing.lastSequence) {
      existing.window = advanceWindow(existing.window, sequence - existing.lastSequence);
    } else if (eventMs > existing.lastEventMs) {
      counterReset = true;
      existing.window = 0;
      existing.lastHeartbeatEventMs = null;
    } else {
      const back = existing.lastSequence - sequence;
      if (back === 0 || back > WINDOW) return { kind: "duplicate", node };
      const bit = (1 << (back - 1)) >>> 0;
      if (existing.window & bit) return { kind: "duplicate", node };
      existing.window = (existing.window | bit) >>> 0;
      existing.lastSeenMs = Math.max(existing.lastSeenMs, receivedMs);
      existing.stale = false;
      // Its last-seen time changed, which the metrics show.
      this.generation++;
      return { kind: "late", node, record: existing };
    }
    const compact = compactValues(values);
    if (!sameState(existing.values, compact)) this.stateGeneration++;
    existing.values = compact;
    existing.lastSeenMs = receivedMs;
    existing.lastSequence = sequence;
    existing.lastEventMs = eventMs;
    existing.lastEvent = event;
    existing.lastSummary = summary;
    if (existing.source !== source) this.unbind(existing);
    existing.source = source;
    this.bind(node, source);
    existing.stale = false;
    if (event === "agentStarted") existing.lastHeartbeatEventMs = null;
    this.learnHeartbeat(existing, event, eventMs);
    this.generation++;
    return { kind: "new", node, firstSeen: false, counterReset, record: existing };
  }

  /** The node last accepted from this source address, if any. */
  nodeAt(source: string): string | null {
    return source ? (this.bySource.get(source) ?? null) : null;
  }

  private bind(node: string, source: string): void {
    if (source) this.bySource.set(source, node);
  }

  private unbind(record: NodeRecord): void {
    if (this.bySource.get(record.source) === record.node) this.bySource.delete(record.source);
  }

  private learnHeartbeat(record: NodeRecord, event: EventKind, eventMs: number): void {
    if (event !== "heartbeat") return;
    if (record.lastHeartbeatEventMs !== null) {
      const gap = eventMs - record.lastHeartbeatEventMs;
      if (gap >= MIN_GAP_MS) record.heartbeatGapsMs = [...record.heartbeatGapsMs, gap].slice(-GAPS_KEPT);
    }
    record.lastHeartbeatEventMs = eventMs;
  }

  heartbeatIntervalMs(record: NodeRecord): number {
    return record.heartbeatGapsMs.length > 0 ? Math.min(...record.heartbeatGapsMs) : this.options.defaultHeartbeatMs;
  }

  staleAfterMs(record: NodeRecord): number {
    return this.options.staleAfterHeartbeats * this.heartbeatIntervalMs(record);
  }

  /** Marks nodes stale or fresh and forgets long-gone ones; returns what changed. */
  sweep(nowMs: number): { becameStale: string[]; forgotten: string[] } {
    const becameStale: string[] = [];
    const forgotten: string[] = [];
    for (const record of this.nodes.values()) {
      if (nowMs - record.lastSeenMs > this.options.forgetAfterMs) {
        this.nodes.delete(record.node);
        this.unbind(record);
        forgotten.push(record.node);
        continue;
      }
      const silentFor = nowMs - Math.max(record.lastSeenMs, this.startedAtMs);
      const stale = silentFor > this.staleAfterMs(record);
      if (stale !== record.stale) {
        record.stale = stale;
        if (stale) becameStale.push(record.node);
      }
    }
    if (becameStale.length || forgotten.length) this.generation++;
    if (forgotten.length) this.stateGeneration++;
    return { becameStale, forgotten };
  }

  /** The saved form (fleet-file.ts), parsed. */
  toJSON(): FleetFile {
    return JSON.parse(fleetFileBytes(this.nodes.values()).toString("utf8")) as FleetFile;
  }

  /** Restores saved records, skipping any that do not have the expected shape; returns how many were skipped. */
  restore(saved: unknown): number {
    const list = savedNodes(saved);
    let skipped = 0;
    for (const raw of list) {
      const r = raw as Partial<NodeRecord>;
      const ok = typeof r?.node === "string" && r.node !== "" && typeof r.values === "object" && r.values !== null && !Array.isArray(r.values)
        && typeof r.lastSeenMs === "number" && typeof r.lastSequence === "number" && typeof r.lastEventMs === "number";
      if (!ok || this.nodes.size >= this.options.maxNodes) {
        skipped++;
        continue;
      }
      this.nodes.set(r.node!, {
        node: r.node!,
        values: compactValues(r.values as ObjectValues),
        lastSeenMs: r.lastSeenMs!,
        lastSequence: r.lastSequence!,
        lastEventMs: r.lastEventMs!,
        window: typeof r.window === "number" ? r.window >>> 0 : 0,
        lastEvent: (typeof r.lastEvent === "string" ? r.lastEvent : "heartbeat") as EventKind,
        lastSummary: typeof r.lastSummary === "string" ? r.lastSummary : "",
        source: typeof r.source === "string" ? r.source : "",
        lastHeartbeatEventMs: typeof r.lastHeartbeatEventMs === "number" ? r.lastHeartbeatEventMs : null,
        heartbeatGapsMs: Array.isArray(r.heartbeatGapsMs) ? r.heartbeatGapsMs.filter((g) => typeof g === "number" && g >= MIN_GAP_MS).slice(-GAPS_KEPT) : [],
        stale: false,
      });
      this.bind(r.node!, typeof r.source === "string" ? r.source : "");
    }
    this.generation++;
    this.stateGeneration++;
    return skipped;
  }
}
