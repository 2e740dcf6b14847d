// The daemon's notification sender: every event gets the next sequence number (one sequence per
// node, whatever the number of targets), is written to the outbox, then delivered to every
// target by that target's own lane (target-lane.ts), so a target that is down delays no other
// and gets everything, in order, when it is back.
import type { Config } from "../config";
import type { EventSink } from "../daemon/daemon";
import type { StateEvent } from "../diff";
import type { Logger } from "../log";
import type { NodeState } from "../state/node-state";
import { oidTree, type OidTree } from "./oid-tree";
import { Outbox, type OutboxEntry } from "./outbox";
import { notificationObjects, stateObjects } from "./state-objects";
import { validateNotifications } from "./notification-config";
import { TargetLane, type LaneStats } from "./target-lane";
import { isoTime } from "../iso-time";

export interface NotifierOptions {
  tree?: OidTree;
  /** Wait before the first retry after a failed delivery; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Clock for event times (tests). */
  now?: () => Date;
}

export interface NotifierStats {
  /** Delivered, over all targets: traps put on the wire plus informs acknowledged. */
  sent: number;
  acknowledged: number;
  /** In the outbox now: notifications some target does not have yet. */
  queued: number;
  /** Dropped because the outbox was full, over the outbox's life (kept across restarts). */
  dropped: number;
  /** Delivery attempts that failed, over all targets. */
  failed: number;
  /** The same counts for each target, in the order configured. */
  targets: LaneStats[];
}

/** The daemon's EventSink (agent/daemon/daemon.ts): `implements` keeps the two from drifting apart. */
export class Notifier implements EventSink {
  private readonly tree: OidTree;
  private readonly outbox: Outbox;
  private readonly lanes: TargetLane[];
  private readonly now: () => Date;
  private started = false;
  private closed = false;
  /** Drops not yet mentioned in a notification's summary. */
  private unreportedDrops = 0;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    options: NotifierOptions = {},
  ) {
    validateNotifications(config);
    this.tree = options.tree ?? oidTree(config.mib.baseOid);
    const n = config.notifications;
    this.outbox = new Outbox(n.outbox, n.outboxMax, n.targets);
    const laneOptions = { backoffMs: options.backoffMs ?? 1000, maxBackoffMs: options.maxBackoffMs ?? 60_000, afterWrite: () => this.reportWriteErrors() };
    this.lanes = n.targets.map((target) => new TargetLane(target, n, this.outbox, this.tree, logger, laneOptions));
    this.now = options.now ?? (() => new Date());
  }

  /** Loads what a previous run left in the outbox and starts delivering it. */
  async start(): Promise<void> {
    try {
      this.outbox.load();
    } catch (error) {
      // Without its directory the outbox still queues in memory; a restart then loses the queue.
      this.logger.error({ outbox: this.outbox.dir }, `cannot use the outbox directory: ${(error as Error).message}; notifications are queued in memory only until it is fixed (check notifications.outbox and its permissions)`);
    }
    for (const problem of this.outbox.problems) this.logger.warn({ outbox: this.outbox.dir }, `outbox: ${problem}`);
    const queued = this.outbox.size;
    if (queued) this.logger.info({ queued, outbox: this.outbox.dir }, `${queued} notification${queued === 1 ? "" : "s"} left from an earlier run; delivering them first`);
    this.started = true;
    this.kick();
  }

  /**
   * Assigns the next sequence number, persists the notification, then delivers it. After
   * close() it is only persisted, for the next start to deliver.
   */
  notify(event: StateEvent, state: NodeState): void {
    if (!this.started) throw new Error("Notifier.notify() called before start()");
    const sequence = this.outbox.nextSequence();
    const at = isoTime(this.now().getTime());
    const summary = this.unreportedDrops ? `${event.summary} [outbox full: ${this.unreportedDrops} older notification${this.unreportedDrops === 1 ? "" : "s"} dropped]` : event.summary;
    this.unreportedDrops = 0;
    const entry: OutboxEntry = {
      sequence,
      at,
      event: { ...event, summary },
      objects: notificationObjects(stateObjects(state), { sequence, at, summary, service: event.service }),
    };
    const dropped = this.outbox.add(entry);
    if (dropped.length) {
      // The newest notification survives longest, so the next one carries the count.
      this.unreportedDrops += dropped.length;
      const missedBy = this.config.notifications.targets.filter((t) => dropped.some((d) => !d.delivered?.includes(t)));
      this.logger.warn(
        { dropped: dropped.length, droppedTotal: this.outbox.dropped, first: dropped[0].sequence, last: dropped[dropped.length - 1].sequence, outboxMax: this.outbox.max, missedBy },
        `outbox full (notifications.outboxMax ${this.outbox.max}): dropped the ${dropped.length} oldest undelivered notification${dropped.length === 1 ? "" : "s"}`,
      );
    }
    this.logger.debug({ sequence, kind: event.kind }, `queued ${event.kind} #${sequence}: ${summary}`);
    this.reportWriteErrors();
    this.kick();
  }

  /** On shutdown: tries to deliver what is queued within timeoutMs; the rest stays in the outbox. */
  async flush(timeoutMs: number): Promise<void> {
    if (!this.started) return;
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      await Promise.race([Promise.all(this.lanes.map((lane) => lane.flush(deadline, expired))), expired]);
    } finally {
      clearTimeout(timer);
    }
    const left = this.outbox.size;
    if (left) this.logger.info({ queued: left, outbox: this.outbox.dir }, `${left} notification${left === 1 ? "" : "s"} kept in the outbox for the next start`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const lane of this.lanes) lane.close();
  }

  /**
   * Outbox write failures are logged once per distinct kind (errno code), like delivery problems:
   * on a full disk the entry and state.json writes fail in turn with different texts, one problem.
   */
  private writeProblem: string | null = null;

  private reportWriteErrors(): void {
    const errors = this.outbox.takeWriteErrors();
    if (!errors.length) return;
    const kind = [...new Set(errors.map((e) => e.code))].sort().join(",");
    if (kind === this.writeProblem) return;
    this.writeProblem = kind;
    this.logger.error({ outbox: this.outbox.dir, errors: errors.length, code: kind }, `outbox: ${errors[errors.length - 1].text}; the notification is kept in memory only`);
  }

  stats(): NotifierStats {
    const targets = this.lanes.map((lane) => lane.stats());
    const sum = (key: "sent" | "acknowledged" | "failed") => targets.reduce((total, t) => total + t[key], 0);
    return { sent: sum("sent"), acknowledged: sum("acknowledged"), failed: sum("failed"), queued: this.outbox.size, dropped: this.outbox.dropped, targets };
  }

  private kick(): void {
    if (this.closed) return;
    for (const lane of this.lanes) lane.kick();
  }
}
