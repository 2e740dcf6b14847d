// Keeps a flood of datagrams from becoming a flood of log lines: per category, the first few
// lines of each period are logged and the rest are counted and summed up in one line later.
import type { Logger } from "../log";

type Level = "info" | "warn";

export class LogLimiter {
  private readonly windows = new Map<string, { start: number; logged: number; suppressed: number; level: Level }>();

  constructor(
    private readonly log: () => Logger,
    private readonly perPeriod = 20,
    private readonly periodMs = 10_000,
  ) {}

  warn(category: string, fields: Record<string, unknown>, message: string, nowMs = Date.now()): void {
    this.emit("warn", category, fields, message, nowMs);
  }

  info(category: string, fields: Record<string, unknown>, message: string, nowMs = Date.now()): void {
    this.emit("info", category, fields, message, nowMs);
  }

  private emit(level: Level, category: string, fields: Record<string, unknown>, message: string, nowMs: number): void {
    let w = this.windows.get(category);
    if (!w || nowMs - w.start >= this.periodMs) {
      if (w) this.summarize(category, w);
      w = { start: nowMs, logged: 0, suppressed: 0, level };
      this.windows.set(category, w);
    }
    if (w.logged < this.perPeriod) {
      w.logged++;
      this.log()[level]({ category, ...fields }, message);
    } else {
      w.suppressed++;
    }
  }

  private summarize(category: string, w: { suppressed: number; level: Level }): void {
    if (w.suppressed > 0) this.log()[w.level]({ category, suppressed: w.suppressed, periodSeconds: this.periodMs / 1000 }, `${w.suppressed} more "${category}" lines suppressed`);
  }

  /** Reports what the current periods suppressed (call on a timer so a summary is not held back forever). */
  flush(nowMs = Date.now()): void {
    for (const [category, w] of this.windows) {
      if (nowMs - w.start < this.periodMs) continue;
      this.summarize(category, w);
      this.windows.delete(category);
    }
  }
}
