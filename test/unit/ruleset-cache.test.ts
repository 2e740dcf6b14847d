// When the daemon may reuse the last ruleset it read, and when it must read the live one again:
// a stale firewall verdict is the failure a user would notice, so every reason to re-read is here.
import { describe, expect, it } from "vitest";
import { mergeRulesets } from "../../agent/firewall/ruleset";
import type { LiveRuleset } from "../../agent/probes/firewall";
import { MAX_AGE_MS, RulesetCache } from "../../agent/daemon/ruleset-cache";
import { isGenerationLine } from "../../agent/daemon/ruleset-watcher";

function harness(options: { legacy?: boolean } = {}) {
  const clock = { now: 1_000_000 };
  const watcher = { changes: 0, trustedSince: clock.now - 1000 as number | null };
  const legacy = { present: options.legacy ?? false };
  let reads = 0;
  const read = async (): Promise<LiveRuleset> => {
    reads++;
    // As readLiveRuleset names it: the legacy tables' rules are in the copy when they exist.
    return { ruleset: mergeRulesets([]), backend: `${legacy.present ? "nftables+iptables-legacy" : "nftables"}#${reads}` };
  };
  const cache = new RulesetCache(watcher, read, async () => legacy.present, () => clock.now);
  return { cache, watcher, clock, legacy, reads: () => reads };
}

describe("RulesetCache", () => {
  it("reads once while the monitor reports no change", async () => {
    const h = harness();
    const first = await h.cache.get(1000);
    for (let i = 0; i < 5; i++) {
      h.clock.now += 30_000;
      expect(await h.cache.get(1000)).toBe(first);
    }
    expect(h.reads()).toBe(1);
    expect(h.cache.counts).toEqual({ read: 1, cached: 5 });
  });

  it("reads again after the monitor reports a change", async () => {
    const h = harness();
    await h.cache.get(1000);
    h.watcher.changes++;
    expect((await h.cache.get(1000)).backend).toBe("nftables#2");
    expect((await h.cache.get(1000)).backend).toBe("nftables#2");
  });

  it("does not trust a read that began before the monitor was subscribed", async () => {
    const h = harness();
    h.watcher.trustedSince = h.clock.now + 500;
    await h.cache.get(1000);
    h.clock.now += 1000;
    expect((await h.cache.get(1000)).backend).toBe("nftables#2");
    h.clock.now += 1000;
    expect((await h.cache.get(1000)).backend).toBe("nftables#2");
  });

  it("reads every time while no monitor runs", async () => {
    const h = harness();
    h.watcher.trustedSince = null;
    await h.cache.get(1000);
    await h.cache.get(1000);
    expect(h.reads()).toBe(2);
  });

  it("reads every time while legacy iptables tables exist (their changes are not reported)", async () => {
    const h = harness({ legacy: true });
    await h.cache.get(1000);
    await h.cache.get(1000);
    expect(h.reads()).toBe(2);
    h.legacy.present = false;
    await h.cache.get(1000);
    await h.cache.get(1000);
    expect(h.reads()).toBe(3);
  });

  it("reads again once the copy is older than MAX_AGE_MS (set elements added from the packet path)", async () => {
    const h = harness();
    await h.cache.get(1000);
    h.clock.now += MAX_AGE_MS;
    await h.cache.get(1000);
    expect(h.reads()).toBe(1);
    h.clock.now += 1;
    expect((await h.cache.get(1000)).backend).toBe("nftables#2");
  });

  it("keeps no failure: the next cycle asks the tool again", async () => {
    const h = harness();
    let fail = true;
    const cache = new RulesetCache(h.watcher, async () => {
      if (fail) throw new Error("nft: Operation not permitted");
      return { ruleset: mergeRulesets([]), backend: "nftables" };
    }, async () => false, () => h.clock.now);
    await expect(cache.get(1000)).rejects.toThrow(/not permitted/);
    fail = false;
    expect((await cache.get(1000)).backend).toBe("nftables");
  });
});

describe("isGenerationLine", () => {
  it("is true only for the line nft monitor prints after each committed transaction", () => {
    expect(isGenerationLine("# new generation 7 by process 2215 (nft)")).toBe(true);
    expect(isGenerationLine("add rule inet t c udp dport 41641 accept")).toBe(false);
    expect(isGenerationLine("")).toBe(false);
  });
});
