// Keeps a flood of bad datagrams from becoming a flood of log lines: per category, the first few
// lines of each period are logged and the rest are counted and summed up in one line later.
import type { Logger } from "../log";

export class LogLimiter {
  private readonly windows = new Map<string, { start: number; logged: number; suppressed: number }>();

  constructor(
    private readonly log: () => Logger,
    private readonly perPeriod = 20,
    private readonly periodMs = 10_000,
  ) {}

  warn(category: string, fields: Record<string, unknown>, message: string, nowMs = Date.now()): void {
    let w = this.windows.get(category);
    if (!w || nowMs - w.start >= this.periodMs) {
      if (w && w.suppressed > 0) this.log().warn({ category, suppressed: w.suppressed, periodSeconds: this.periodMs / 1000 }, `${w.suppressed} more "${category}" lines suppressed`);
      w = { start: nowMs, logged: 0, suppressed: 0 };
      this.windows.set(category, w);
    }
    if (w.logged < this.perPeriod) {
      w.logged++;
      this.log().warn({ category, ...fields }, message);
    } else {
      w.suppressed++;
    }
  }

  /** Reports what the current periods suppressed (call on a timer so a summary is not held back forever). */
  flush(nowMs = Date.now()): void {
    for (const [category, w] of this.windows) {
      if (nowMs - w.start < this.periodMs) continue;
      if (w.suppressed > 0) this.log().warn({ category, suppressed: w.suppressed, periodSeconds: this.periodMs / 1000 }, `${w.suppressed} more "${category}" lines suppressed`);
      this.windows.delete(category);
    }
  }
}
