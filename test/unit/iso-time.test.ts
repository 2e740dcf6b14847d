// isoTime must print exactly what Date.prototype.toISOString prints: receivers, logs and the
// outbox parse these strings.
import { describe, expect, it } from "vitest";
import { isoTime } from "../../agent/iso-time";

describe("isoTime", () => {
  it("matches toISOString across the range", () => {
    const samples = [0, 1, 999, 1000, Date.UTC(2026, 10, 28, 15, 4, 5, 67), Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), -1, Date.UTC(-1, 0, 1), -62198755200000, 8.64e15, -8.64e15];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor((Math.random() * 2 - 1) * 4e12));
    for (const ms of samples) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it("defaults to now and rejects an invalid time as toISOString does", () => {
    const before = Date.now();
    const now = Date.parse(isoTime());
    expect(now).toBeGreaterThanOrEqual(before);
    expect(() => isoTime(NaN)).toThrow(RangeError);
    expect(() => isoTime(8.64e15 + 1)).toThrow(RangeError);
  });
});
