// Delivery to one notifications target: the outbox's entries that target does not have yet, in
// sequence order (head of line: a later notification never overtakes an earlier one). An inform
// counts as delivered when acknowledged, a trap when it is on the wire; a failure waits out a
// backoff and is logged once per change of the problem. Each target has its own lane, so a
// target that is down delays no other.
import type { Logger } from "../log";
import type { OidTree } from "./oid-tree";
import type { Outbox, OutboxEntry } from "./outbox";
import { describeTarget, Sender, type NotificationSettings } from "./sender";
import { parseTarget, resolveOrExplain, TargetUnresolvable, type TargetSpec } from "./target";
import { toVarbinds } from "./varbinds";

export interface LaneStats {
  /** As configured, e.g. scraper-a:162. */
  target: string;
  /** Delivered: traps put on the wire plus informs acknowledged. */
  sent: number;
  acknowledged: number;
  /** Entries this target does not have yet. */
  queued: number;
  /** Delivery attempts that failed (no answer, unresolvable target, send error). */
  failed: number;
}

export interface LaneOptions {
  /** Wait before the first retry after a failed delivery; doubles up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Called after each outbox write, so write failures are logged as they happen. */
  afterWrite: () => void;
}

export class TargetLane {
  private readonly spec: TargetSpec;
  private readonly sender: Sender;
  private counts = { sent: 0, acknowledged: 0, failed: 0 };
  private retryTimer: NodeJS.Timeout | null = null;
  private backoff = 0;
  private pumping: Promise<void> | null = null;
  private closed = false;
  /** The delivery problem last logged, so a lasting outage is one log line, not one per retry. */
  private problem: string | null = null;

  constructor(
    readonly target: string,
    private readonly settings: NotificationSettings,
    private readonly outbox: Outbox,
    private readonly tree: OidTree,
    private readonly logger: Logger,
    private readonly options: LaneOptions,
  ) {
    this.spec = parseTarget(target);
    // Its own sessions: a failure that drops one never cuts short another target's inform.
    this.sender = new Sender(settings);
  }

  stats(): LaneStats {
    return { target: this.target, ...this.counts, queued: this.outbox.queuedFor(this.target) };
  }

  /** Starts delivery unless it is running or waiting out a backoff. */
  kick(): void {
    if (this.closed || this.retryTimer) return;
    void this.pump();
  }

  /**
   * On shutdown: delivers what this target lacks until done, a delivery fails, or `expired`
   * settles; the rest stays in the outbox.
   */
  async flush(deadline: number, expired: Promise<void>): Promise<void> {
    while (this.outbox.nextFor(this.target) && Date.now() < deadline && !this.closed) {
      this.clearRetry();
      const before = this.counts.failed;
      await Promise.race([this.pump(), expired]);
      if (this.counts.failed !== before) return;
    }
  }

  close(): void {
    this.closed = true;
    this.clearRetry();
    this.sender.close();
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
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
      const head = this.outbox.nextFor(this.target);
      if (!head) return;
      if (!(await this.deliver(head))) {
        this.scheduleRetry();
        return;
      }
    }
  }

  private async deliver(entry: OutboxEntry): Promise<boolean> {
    let where = this.target;
    try {
      const resolved = await resolveOrExplain(this.spec, "check notifications.targets and MagicDNS: tailscale status");
      where = describeTarget(resolved);
      const result = await this.sender.send(resolved, this.tree.notificationOid(entry.event.kind), toVarbinds(this.tree, entry.objects));
      this.outbox.markDelivered(entry.sequence, this.target);
      this.options.afterWrite();
      this.counts.sent++;
      if (result.acknowledged) this.counts.acknowledged++;
      this.backoff = 0;
      if (this.problem) {
        this.logger.info({ target: this.target }, `notifications reach ${where} again (after: ${this.problem})`);
        this.problem = null;
      }
      this.logger.debug({ sequence: entry.sequence, kind: entry.event.kind, target: where, rttMs: result.rttMs }, `delivered ${entry.event.kind} #${entry.sequence}`);
      return true;
    } catch (error) {
      if (this.closed) return false;
      this.counts.failed++;
      const message = (error as Error).message;
      const problem = error instanceof TargetUnresolvable ? message : `${this.settings.inform ? "no acknowledgement" : "send failed"} from ${where}: ${message}`;
      if (problem !== this.problem) {
        this.problem = problem;
        this.logger.warn(
          { target: this.target, queued: this.outbox.queuedFor(this.target) },
          `notifications queued: ${problem}; retrying with backoff, kept in ${this.outbox.dir}`,
        );
      }
      return false;
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.backoff = this.backoff ? Math.min(this.backoff * 2, this.options.maxBackoffMs) : this.options.backoffMs;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, this.backoff);
  }
}
