// Heartbeats are the bulk of what a receiver takes in (every node, every heartbeat interval, and
// all at once when outboxes replay after an outage), and they say that nothing changed. One
// JSON line each cost more CPU than everything else the receiver does with one (about 60% of its
// time at 6,000/s in a profile), and journald keeps only 10,000 lines per 30 s of a unit by
// default anyway. So routine heartbeats get one info line each up to a budget per period (a
// fleet's normal rate stays within it); past that they are counted, logged at debug level only,
// and summed up in one line when the period ends.
import type { Logger } from "../log";

export class HeartbeatLog {
  private logged = 0;
  private suppressed = 0;
  private startMs: number;

  constructor(
    private readonly perPeriod = 1000,
    private readonly periodMs = 10_000,
    nowMs = Date.now(),
  ) {
    this.startMs = nowMs;
  }

  /** Whether this heartbeat gets its info line; false means it was counted for the summary. */
  admit(log: Logger, nowMs = Date.now()): boolean {
    if (nowMs - this.startMs >= this.periodMs) this.flush(log, nowMs);
    if (this.logged < this.perPeriod) {
      this.logged++;
      return true;
    }
    this.suppressed++;
    return false;
  }

  /** Ends the period once it is over, summing up what it held back; call on a timer too. */
  flush(log: Logger, nowMs = Date.now()): void {
    if (nowMs - this.startMs < this.periodMs) return;
    if (this.suppressed > 0) {
      const seconds = Math.round((nowMs - this.startMs) / 1000);
      log.info(
        { category: "heartbeat", suppressed: this.suppressed, logged: this.logged, periodSeconds: seconds },
        `${this.suppressed} more heartbeat lines held back in the last ${seconds} s, past ${this.perPeriod} per ${this.periodMs / 1000} s (each is logged at debug level)`,
      );
    }
    this.logged = 0;
    this.suppressed = 0;
    this.startMs = nowMs;
  }
}
