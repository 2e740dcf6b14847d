// Real Prometheus: it discovers the nodes from the receiver's file_sd file (and follows the
// file when the receiver rewrites it), and the same targets over http_sd (/targets) split between
// two shards by hashmod, as Prometheus servers on other hosts would; it scrapes the receiver's
// /metrics, and promtool finds the exposition clean.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/prereqs";
import { freeTcpPort, waitFor } from "../helpers/ports";
import { startDaemon, type Daemon } from "../helpers/process";
import { COMMUNITY, edgeValues, metricsText, snmptrap, snmptrapVarbindArgs, startTestReceiver, tree, type TestReceiver } from "./receiver-support";

interface Target {
  labels: Record<string, string>;
  scrapePool: string;
  health: string;
}

describeWith({ binaries: ["prometheus", "promtool", "snmptrap"] }, "receiver with a real Prometheus", () => {
  let r: TestReceiver;
  let prometheus: Daemon;
  let promUrl: string;
  let dir: string;
  const send = (node: string, seq: number, overrides = {}) =>
    snmptrap(["-v2c", "-Ci", "-r", "0", "-c", COMMUNITY, `127.0.0.1:${r.port}`, "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(edgeValues(node, seq, overrides))]);
  const targets = async (): Promise<Target[]> => ((await (await fetch(`${promUrl}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } }).data.activeTargets;

  beforeAll(async () => {
    r = await startTestReceiver();
    expect((await send("web1", 1, { edgeAgentScraperPath: "relay" })).code).toBe(0);
    expect((await send("db1", 1, { edgeAgentNodeExporterUp: false, edgeAgentTailnetTags: "tag:monitor,tag:db" })).code).toBe(0);
    dir = mkdtempSync(join(tmpdir(), "ea-prometheus-"));
    const port = await freeTcpPort();
    promUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global: { scrape_interval: 1s, evaluation_interval: 1s }",
        "scrape_configs:",
        "  - job_name: node",
        `    file_sd_configs: [{ files: ["${join(r.dir, "file_sd", "*.yml")}"], refresh_interval: 1s }]`,
        // Two shards of a larger setup, each keeping its half of the receiver's targets.
        ...[0, 1].flatMap((shard) => [
          `  - job_name: node-shard-${shard}`,
          `    http_sd_configs: [{ url: "${new URL("/targets", r.metricsUrl).href}", refresh_interval: 1s }]`,
          "    relabel_configs:",
          "      - { source_labels: [__address__], modulus: 2, target_label: __tmp_shard, action: hashmod }",
          `      - { source_labels: [__tmp_shard], regex: "${shard}", action: keep }`,
        ]),
        "  - job_name: edge-receiver",
        `    static_configs: [{ targets: ["${new URL(r.metricsUrl).host}"] }]`,
      ].join("\n"),
    );
    prometheus = startDaemon("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"]);
    await waitFor("prometheus ready", async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000, 200).catch((e) => {
      throw new Error(`${(e as Error).message}\n${prometheus.output()}`);
    });
  });
  afterAll(async () => {
    await prometheus?.stop();
    await r?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("discovers node:9100 for the nodes reporting node-exporter up, with their labels", async () => {
    const nodes = await waitFor("web1 discovered", async () => {
      const t = (await targets()).filter((x) => x.scrapePool === "node");
      return t.length === 1 ? t : null;
    }, 20_000, 250);
    expect(nodes[0].labels).toMatchObject({ instance: "web1:9100", job: "node", node: "web1", tailnet_tags: "tag:monitor", ipv6_prefix: "2001:db8:100:1::/64", scraper_path: "relay" });
  });

  it("follows the file when a node's node-exporter comes up", async () => {
    expect((await send("db1", 2, { edgeAgentTailnetTags: "tag:monitor,tag:db" })).code).toBe(0);
    const nodes = await waitFor("db1 discovered", async () => {
      const t = (await targets()).filter((x) => x.scrapePool === "node");
      return t.length === 2 ? t : null;
    }, 20_000, 250);
    expect(nodes.map((t) => t.labels.instance).sort()).toEqual(["db1:9100", "web1:9100"]);
    expect(nodes.find((t) => t.labels.node === "db1")!.labels.tailnet_tags).toBe("tag:monitor,tag:db");
  });

  it("serves the same targets over http_sd, and two hashmod shards split them between them", async () => {
    const res = await fetch(new URL("/targets", r.metricsUrl));
    expect(res.headers.get("content-type")).toBe("application/json");
    const groups = (await res.json()) as { targets: string[]; labels: Record<string, string> }[];
    expect(groups.map((g) => g.targets[0]).sort()).toEqual(["db1:9100", "web1:9100"]);
    expect(groups.find((g) => g.labels.node === "web1")!.labels).toMatchObject({ scraper_path: "relay", agent: "reporting" });
    const shards = await waitFor("both targets in the shards", async () => {
      const t = (await targets()).filter((x) => x.scrapePool.startsWith("node-shard-"));
      return t.length === 2 ? t : null;
    }, 20_000, 250);
    expect(shards.map((t) => t.labels.instance).sort()).toEqual(["db1:9100", "web1:9100"]);
    expect(shards.find((t) => t.labels.node === "db1")!.labels.tailnet_tags).toBe("tag:monitor,tag:db");
  });

  it("scrapes the receiver's /metrics successfully", async () => {
    await waitFor("receiver scraped", async () => {
      const q = await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('edge_fleet_node_up{job="edge-receiver"}')}`)).json() as { data: { result: { metric: Record<string, string> }[] } };
      return q.data.result.map((s) => s.metric.node).sort().join(",") === "db1,web1";
    }, 20_000, 250);
  });

  it("serves metrics that promtool check metrics passes without a lint finding", async () => {
    const text = await metricsText(r.metricsUrl);
    const result = await new Promise<{ code: number; out: string }>((resolve) => {
      const child = execFile("promtool", ["check", "metrics"], (error, stdout, stderr) => resolve({ code: error ? 1 : 0, out: `${stdout}${stderr}` }));
      child.stdin!.end(text);
    });
    expect(result).toEqual({ code: 0, out: "" });
  });
});
