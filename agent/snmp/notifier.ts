// The daemon's notification sender: every event gets the next sequence number, is written to
// the outbox, then delivered in sequence order (head of line: a later notification never
// overtakes an earlier one). An inform leaves the outbox when acknowledged, a trap when it is on
// the wire; failures are retried with backoff and logged once per change of the problem.
import type { Config } from "../config";
import type { EventSink } from "../daemon/daemon";
import type { StateEvent } from "../diff";
import type { Logger } from "../log";
import type { NodeState } from "../state/node-state";
import { oidTree, type OidTree } from "./oid-tree";
import { Outbox, type OutboxEntry } from "./outbox";
import { describeTarget, Sender } from "./sender";
import { notificationObjects, stateObjects } from "./state-objects";
import { validateNotifications } from "./notification-config";
import { parseTarget, resolveOrExplain, TargetUnresolvable, type TargetSpec } from "./target";
import { toVarbinds } from "./varbinds";
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
  /** Delivered: traps put on the wire plus informs acknowledged. */
  sent: number;
  acknowledged: number;
  /** In the outbox now. */
  queued: number;
  /** Dropped because the outbox was full, over the outbox's life (kept across restarts). */
  dropped: number;
  /** Delivery attempts that failed (no answer, unresolvable target, send error). */
  failed: number;
}

/** The daemon's EventSink (agent/daemon/daemon.ts): `implements` keeps the two from drifting apart. */
export class Notifier implements EventSink {
  private readonly tree: OidTree;
  private readonly outbox: Outbox;
  private readonly sender: Sender;
  private readonly target: TargetSpec;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly now: () => Date;
  private counts = { sent: 0, acknowledged: 0, failed: 0 };
  private retryTimer: NodeJS.Timeout | null = null;
  private backoff = 0;
  private pumping: Promise<void> | null = null;
  private started = false;
  private closed = false;
  /** The delivery problem last logged, so a lasting outage is one log line, not one per retry. */
  private problem: string | null = null;
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
    this.outbox = new Outbox(n.outbox, n.outboxMax);
    this.sender = new Sender(n);
    this.target = parseTarget(n.target);
    this.backoffMs = options.backoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
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
      this.logger.warn(
        { dropped: dropped.length, droppedTotal: this.outbox.dropped, first: dropped[0].sequence, last: dropped[dropped.length - 1].sequence, outboxMax: this.outbox.max },
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
      while (this.outbox.size > 0 && Date.now() < deadline && !this.closed) {
        this.clearRetry();
        const before = this.counts.failed;
        await Promise.race([this.pump(), expired]);
        if (this.counts.failed !== before) break;
      }
    } finally {
      clearTimeout(timer);
    }
    const left = this.outbox.size;
    if (left) this.logger.info({ queued: left, outbox: this.outbox.dir }, `${left} notification${left === 1 ? "" : "s"} kept in the outbox for the next start`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clearRetry();
    this.sender.close();
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
    return { ...this.counts, queued: this.outbox.size, dropped: this.outbox.dropped };
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Starts delivery unless it is running or waiting out a backoff. */
  private kick(): void {
    if (this.closed || this.retryTimer) return;
    void this.pump();
  }

  private pump(): Promise<void> {
    if (!this.pumping) {
      this.pumping = this.deliverAll().finally(() => {
        this.pumping = null;
      });
    }
    return this.pumping;
  }

  private async deliverAll(): Promise<void> {
    while (!this.closed) {
      const head = this.outbox.pending()[0];
      if (!head) return;
      const ok = await this.deliver(head);
      if (!ok) {
        this.scheduleRetry();
        return;
      }
    }
  }

  private async deliver(entry: OutboxEntry): Promise<boolean> {
    let where = this.config.notifications.target;
    try {
      const resolved = await resolveOrExplain(this.target, "check notifications.target and MagicDNS: tailscale status");
      where = describeTarget(resolved);
      const result = await this.sender.send(resolved, this.tree.notificationOid(entry.event.kind), toVarbinds(this.tree, entry.objects));
      this.outbox.remove(entry.sequence);
      this.reportWriteErrors();
      this.counts.sent++;
      if (result.acknowledged) this.counts.acknowledged++;
      this.backoff = 0;
      if (this.problem) {
        this.logger.info({ target: where }, `notifications reach ${where} again (after: ${this.problem})`);
        this.problem = null;
      }
      this.logger.debug({ sequence: entry.sequence, kind: entry.event.kind, target: where, rttMs: result.rttMs }, `delivered ${entry.event.kind} #${entry.sequence}`);
      return true;
    } catch (error) {
      if (this.closed) return false;
      this.counts.failed++;
      const problem = error instanceof TargetUnresolvable
        ? (error as Error).message
        : `${this.config.notifications.inform ? "no acknowledgement" : "send failed"} from ${where}: ${(error as Error).message}`;
      if (problem !== this.problem) {
        this.problem = problem;
        this.logger.warn({ target: this.config.notifications.target, queued: this.outbox.size }, `notifications queued: ${problem}; retrying with backoff, kept in ${this.outbox.dir}`);
      }
      return false;
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.backoff = this.backoff ? Math.min(this.backoff * 2, this.maxBackoffMs) : this.backoffMs;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, this.backoff);
  }
}
