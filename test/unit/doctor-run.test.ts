// The runner: checks run concurrently, a throwing or hanging check becomes a failure with its
// reason while the others finish, a bad config skips everything else, --check selects.
import { describe, expect, it } from "vitest";
import { configFromObject, ConfigError } from "../../agent/config";
import type { Check } from "../../agent/doctor/check";
import { createContext } from "../../agent/doctor/context";
import { runDoctor } from "../../agent/doctor/doctor";
import { fail, ok } from "../../agent/doctor/finding";
import { CHECK_IDS, selectChecks } from "../../agent/doctor/registry";
import { runChecks } from "../../agent/doctor/run";

const load = { path: "/t/config.yaml", config: configFromObject({}, "/t/config.yaml"), error: null, mode: 0o100640 };

function check(id: string, run: Check["run"], timeoutMs = 1000, scope: Check["scope"] = "any"): Check {
  return { id, group: "services", scope, summary: id, timeoutMs: () => timeoutMs, run };
}

describe("runChecks", () => {
  it("isolates a check that throws and one that hangs; the others still report", async () => {
    const started = Date.now();
    const results = await runChecks(
      [
        check("good", async () => ok("fine")),
        check("throws", async () => {
          throw new TypeError("boom");
        }),
        check("hangs", () => new Promise(() => {}), 150),
        check("slow-good", () => new Promise((r) => setTimeout(() => r(fail("broken", "fix it")), 100))),
      ],
      createContext(load),
      { configInvalid: false },
    );
    expect(results.map((r) => [r.id, r.status])).toEqual([["good", "ok"], ["throws", "fail"], ["hangs", "fail"], ["slow-good", "fail"]]);
    expect(results[1].finding).toBe("the check itself failed: boom");
    expect(results[2].finding).toBe("did not finish within 150 ms: something it waits on hangs");
    expect(results[2].fix).toContain("--check hangs");
    expect(results[3].finding).toBe("broken");
    // Concurrent: the hang's 150 ms and the slow check's 100 ms overlap rather than add up.
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("skips every other check when the config is invalid", async () => {
    const bad = { ...load, config: null, error: new ConfigError("/t/config.yaml", "scraper", "expected a string, got number 5") };
    const report = await runDoctor(bad, selectChecks(["config", "agentx"]).checks, new Set());
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([["config", "fail"], ["agentx", "skip"]]);
    expect(report.checks[1].finding).toContain("the config is invalid");
    expect(report.summary).toMatchObject({ total: 2, fail: 1, skip: 1, exitCode: 2 });
  });

  it("runs scraper checks on a scraper config and when named, skips them elsewhere", async () => {
    const scraperCheck = check("recv", async () => ok("listening"), 1000, "scraper");
    const onScraper = { ...load, config: configFromObject({ receiver: { communities: ["c0mmunity"] } }, "/t/config.yaml") };
    expect((await runChecks([scraperCheck], createContext(onScraper), { configInvalid: false }))[0].status).toBe("ok");
    expect((await runChecks([scraperCheck], createContext(load, new Set(["recv"])), { configInvalid: false }))[0].status).toBe("ok");
    // The role as a node's would be (this machine may run an `edge-agent receive` of its own).
    const onNode = { ...createContext(load), role: async () => ({ scraper: false, reason: "no receiver here" }) };
    const skipped = (await runChecks([scraperCheck], onNode, { configInvalid: false }))[0];
    expect(skipped).toMatchObject({ status: "skip", finding: "not the scraper: no receiver here", fix: "edge-agent doctor --check recv runs it anyway" });
  });
});

describe("selectChecks", () => {
  it("keeps registry order, reports unknown ids, and lists stable unique ids", () => {
    expect(selectChecks(["snmpd", "config"]).checks.map((c) => c.id)).toEqual(["config", "snmpd"]);
    expect(selectChecks(["nope", "config"]).unknown).toEqual(["nope"]);
    expect(new Set(CHECK_IDS).size).toBe(CHECK_IDS.length);
    expect(CHECK_IDS).toEqual(["config", "ipv6-prefix", "ipv4-nat", "tailscaled", "tags", "magicdns", "scraper-path", "tailnet-policy", "firewall-port", "node-exporter", "snmpd", "textfile-dir", "agentx", "notification", "receiver-listen", "receiver-config", "receiver-file-sd", "receiver-notify-policy"]);
  });
});
