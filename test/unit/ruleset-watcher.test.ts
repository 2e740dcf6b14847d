// The nft monitor watcher, with stand-in monitor commands (sleep, sh): when it asks the daemon for
// a cycle and when it trusts what it has not heard.
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { RulesetWatcher, SUBSCRIBE_GRACE_MS } from "../../agent/daemon/ruleset-watcher";
import { waitFor } from "../helpers/ports";

const quiet = pino({ level: "silent" });
const running: RulesetWatcher[] = [];

function watch(command: string[]): { watcher: RulesetWatcher; asked: number[] } {
  const asked: number[] = [];
  const started = Date.now();
  const watcher = new RulesetWatcher(quiet, () => asked.push(Date.now() - started), command);
  running.push(watcher);
  watcher.start();
  return { watcher, asked };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(() => {
  for (const w of running.splice(0)) w.stop();
});

describe("RulesetWatcher", () => {
  it("asks for one cycle once the monitor is trusted, so a change made while nft subscribed is read then", async () => {
    const { watcher, asked } = watch(["sleep", "30"]);
    expect(watcher.trustedSince).not.toBeNull();
    await waitFor("the cycle asked for at the grace", () => asked.length === 1, 5000, 10);
    expect(asked[0]).toBeGreaterThanOrEqual(SUBSCRIBE_GRACE_MS - 5);
    await sleep(SUBSCRIBE_GRACE_MS);
    expect(asked).toHaveLength(1);
    expect(watcher.changes).toBe(0);
  });

  it("asks for a cycle and counts a change for each generation line", async () => {
    const { watcher, asked } = watch(["sh", "-c", `sleep ${(SUBSCRIBE_GRACE_MS + 300) / 1000}; echo '# new generation 7 by process 1 (nft)'; sleep 30`]);
    await waitFor("the generation line", () => watcher.changes === 1, 5000, 10);
    expect(asked).toHaveLength(2);
  });

  it("stopped before it is trusted, asks for nothing", async () => {
    const { watcher, asked } = watch(["sleep", "30"]);
    await sleep(50);
    watcher.stop();
    await sleep(SUBSCRIBE_GRACE_MS + 200);
    expect(asked).toEqual([]);
    expect(watcher.trustedSince).toBeNull();
  });

  it("a monitor that exits is not trusted: no cycle at the grace, and what it missed counts as a change", async () => {
    const { watcher, asked } = watch(["false"]);
    await waitFor("the monitor's exit", () => watcher.trustedSince === null, 5000, 10);
    await sleep(SUBSCRIBE_GRACE_MS + 200);
    expect(asked).toEqual([]);
    expect(watcher.changes).toBe(1);
  });
});
