// The shipped Prometheus rules (packaging/prometheus/): promtool finds them valid, their promtool
// unit tests pass, those tests make every alert fire and resolve and check every recording rule,
// every metric the rules read is one the receiver or the node's textfile really exports, and the
// README's prometheus.yml that loads them is a valid config.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parse } from "yaml";
import { NodeMetrics } from "../../agent/metrics-node";
import { describeWith } from "../helpers/prereqs";
import { sampleNodeState } from "../helpers/sample-node-state";
import { COMMUNITY, edgeValues, metricsText, snmptrap, snmptrapVarbindArgs, startTestReceiver, tree, type TestReceiver } from "./receiver-support";

const DIR = resolve(__dirname, "../../packaging/prometheus");
const RULES = join(DIR, "edge-agent.rules.yml");
const TESTS = join(DIR, "edge-agent.rules.test.yml");

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: unknown[];
}
interface RuleTests {
  tests: { alert_rule_test?: AlertTest[]; promql_expr_test?: { expr: string }[] }[];
}

const rules: Rule[] = (parse(readFileSync(RULES, "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const ruleTests = parse(readFileSync(TESTS, "utf8")) as RuleTests;

function promtool(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile("promtool", args, { cwd: DIR }, (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` }));
  });
}

const minutes = (t: string): number => Number(/^(\d+)m$/.exec(t)![1]);

/** The metric names of an exposition text. */
function exposed(text: string): Set<string> {
  return new Set(text.split("\n").filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]));
}

describeWith({ binaries: ["promtool", "snmptrap"] }, "Prometheus rules shipped in packaging/prometheus", () => {
  let r: TestReceiver;

  beforeAll(async () => {
    r = await startTestReceiver();
  });
  afterAll(async () => {
    await r?.stop();
  });

  it("pass promtool check rules", async () => {
    const result = await promtool(["check", "rules", RULES]);
    expect(result.out).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.code).toBe(0);
  });

  it("pass their promtool unit tests", async () => {
    const result = await promtool(["test", "rules", TESTS]);
    expect(result.out).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });

  it("give every alert a for:, a severity, a summary and a runbook", () => {
    for (const rule of rules.filter((x) => x.alert) as (Rule & { for?: string; labels?: Record<string, string>; annotations?: Record<string, string> })[]) {
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(["critical", "warning", "info"], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.runbook, rule.alert).toMatch(/`[^`]+`/);
    }
  });

  it("test every alert firing and, later, resolved, and every recording rule", () => {
    const alertTests = ruleTests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of rules.filter((x) => x.alert).map((x) => x.alert!)) {
      const firing = alertTests.filter((t) => t.alertname === name && t.exp_alerts.length > 0).map((t) => minutes(t.eval_time));
      expect(firing.length, `${name} never fires in the tests`).toBeGreaterThan(0);
      const resolved = alertTests.filter((t) => t.alertname === name && t.exp_alerts.length === 0 && minutes(t.eval_time) > Math.min(...firing));
      expect(resolved.length, `${name} never resolves in the tests`).toBeGreaterThan(0);
    }
    const exprs = ruleTests.tests.flatMap((t) => t.promql_expr_test ?? []).map((t) => t.expr);
    for (const name of rules.filter((x) => x.record).map((x) => x.record!)) expect(exprs, name).toContain(name);
  });

  it("read only metrics that the receiver and the node's textfile export", async () => {
    expect((await snmptrap(["-v2c", "-Ci", "-r", "0", "-c", COMMUNITY, `127.0.0.1:${r.port}`, "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(edgeValues("web1", 1))])).code).toBe(0);
    const node = new NodeMetrics();
    node.update({ state: sampleNodeState(), cycleEndedAtMs: Date.now(), cycleDurationMs: 10, sink: { sent: 1, acknowledged: 1, queued: 0, dropped: 0, failed: 0 }, agentxRegistered: true });
    const names = new Set([...exposed(await metricsText(r.metricsUrl)), ...exposed(await node.render())]);
    const used = new Set(rules.flatMap((x) => x.expr.match(/\bedge_(?:fleet|agent)_[a-z0-9_]+/g) ?? []));
    expect(used.size).toBeGreaterThanOrEqual(10);
    for (const name of used) {
      const family = name.replace(/_total$/, "");
      expect(names.has(name) || names.has(family), `${name} is not exported`).toBe(true);
    }
  });

  it("load with the README's prometheus.yml, which promtool check config accepts", async () => {
    const readme = readFileSync(resolve(__dirname, "../../README.md"), "utf8");
    const block = /## On the scraper[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1];
    expect(block).toContain("rule_files: [/usr/share/edge-agent/prometheus/edge-agent.rules.yml]");
    const dir = mkdtempSync(join(tmpdir(), "ea-readme-config-"));
    try {
      const config = join(dir, "prometheus.yml");
      writeFileSync(config, block.replace(/^ {3}/gm, "").replaceAll("/usr/share/edge-agent/prometheus/", `${DIR}/`));
      const result = await promtool(["check", "config", config]);
      expect(result.out).toContain("SUCCESS: 1 rule files found");
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
