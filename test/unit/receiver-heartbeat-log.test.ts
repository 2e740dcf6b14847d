import pino from "pino";
import { describe, expect, it } from "vitest";
import { HeartbeatLog } from "../../agent/receiver/heartbeat-log";

describe("heartbeat log budget", () => {
  it("gives heartbeats their own line up to the budget, then sums up the rest in one line when the period ends", () => {
    const lines: Record<string, any>[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const T0 = 1_000_000;
    const budget = new HeartbeatLog(3, 10_000, T0);
    expect([1, 2, 3, 4, 5, 6].map((i) => budget.admit(log, T0 + i))).toEqual([true, true, true, false, false, false]);
    budget.flush(log, T0 + 9_999);
    expect(lines).toHaveLength(0);
    // The next period starts with a fresh budget, after the summary of the last one.
    expect(budget.admit(log, T0 + 10_000)).toBe(true);
    expect(lines).toEqual([expect.objectContaining({ level: 30, category: "heartbeat", suppressed: 3, logged: 3, periodSeconds: 10 })]);
    expect(lines[0].msg).toBe("3 more heartbeat lines held back in the last 10 s, past 3 per 10 s (each is logged at debug level)");
    // A period that held nothing back says nothing.
    budget.flush(log, T0 + 20_000);
    expect(lines).toHaveLength(1);
  });
});
