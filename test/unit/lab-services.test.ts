// The pair lab's config files (scripts/netns-lab/services.ts) against the README's High
// availability steps: nodes send to both scrapers, the receivers leave alerting to the rules,
// each Prometheus loads the packaged rules and sends to both Alertmanagers, which are clustered.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO, agentConfig, alertmanagerClusterArgs, alertmanagerConfig, labPaths, labRules, prometheusConfig, receiverConfig, webhookUrl } from "../../scripts/netns-lab/services";
import { nodeByName, scraperNodes } from "../../scripts/netns-lab/topology";

const paths = labPaths("/run/lab-unit");
const [a, b] = scraperNodes(true);
type Rules = { groups: { rules: { alert?: string; record?: string; expr: string; for?: string }[] }[] };

describe("the pair lab's configs", () => {
  it("sends every node's notifications to both scrapers, and the single lab's to the one", () => {
    expect(parse(agentConfig(paths, nodeByName("svc1"), true)).notifications.targets).toEqual(["scraper:162", "scraper2:162"]);
    const single = parse(agentConfig(paths, nodeByName("svc1"))).notifications;
    expect([single.target, single.targets]).toEqual(["scraper:162", undefined]);
  });

  it("leaves the pair's receivers without receiver.alertmanager, each with its own file_sd file", () => {
    const [ra, rb] = [a, b].map((s) => parse(receiverConfig(paths, s, true)).receiver);
    expect([ra.alertmanager, rb.alertmanager]).toEqual([undefined, undefined]);
    expect([ra.fileSd, rb.fileSd]).toEqual([paths.fileSdOf("scraper"), paths.fileSdOf("scraper2")]);
    expect(parse(receiverConfig(paths)).receiver.alertmanager).toBe("http://127.0.0.1:9093");
  });

  it("gives each Prometheus of the pair the rules, both Alertmanagers and both receivers", () => {
    const prom = parse(prometheusConfig(paths, b, true, "/run/lab-unit/edge-agent.rules.yml"));
    expect(prom.rule_files).toEqual(["/run/lab-unit/edge-agent.rules.yml"]);
    expect(prom.alerting.alertmanagers[0].static_configs[0].targets).toEqual(["scraper:9093", "scraper2:9093"]);
    const jobs = Object.fromEntries((prom.scrape_configs as { job_name: string }[]).map((j) => [j.job_name, j]));
    expect(jobs["edge-fleet"]).toMatchObject({ static_configs: [{ targets: ["scraper:9163", "scraper2:9163"] }] });
    expect(jobs.node).toMatchObject({ file_sd_configs: [{ files: [paths.fileSdOf("scraper2")] }] });
    expect(parse(prometheusConfig(paths)).alerting).toBeUndefined();
  });

  it("copies the packaged rules with every `for:` at 2 s and the expressions unchanged", () => {
    const shipped = parse(readFileSync(join(REPO, "packaging/prometheus/edge-agent.rules.yml"), "utf8")) as Rules;
    const lab = parse(labRules()) as Rules;
    const exprs = (r: Rules) => r.groups.flatMap((g) => g.rules.map((x) => `${x.alert ?? x.record}: ${x.expr}`));
    expect(exprs(lab)).toEqual(exprs(shipped));
    const fors = lab.groups.flatMap((g) => g.rules.filter((x) => x.alert).map((x) => x.for ?? "none"));
    expect(fors.length).toBeGreaterThan(0);
    expect(new Set(fors)).toEqual(new Set(["2s"]));
  });

  it("clusters each Alertmanager with the other over the Tailscale IPs and notifies the sink", () => {
    expect(alertmanagerClusterArgs(a, true)).toEqual(["--cluster.listen-address=100.64.0.1:9094", "--cluster.advertise-address=100.64.0.1:9094", "--cluster.peer=100.64.0.2:9094", "--cluster.settle-timeout=5s"]);
    expect(alertmanagerClusterArgs(b, true)).toContain("--cluster.peer=100.64.0.1:9094");
    expect(alertmanagerClusterArgs(a, false)).toEqual(["--cluster.listen-address="]);
    const am = parse(alertmanagerConfig(true));
    expect(am.receivers[0].webhook_configs[0].url).toBe(webhookUrl());
    expect(am.route.group_by).toEqual(["..."]);
  });
});
