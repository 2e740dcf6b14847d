// The shipped Grafana dashboard (packaging/grafana/): core panels and one Prometheus datasource
// variable only, every panel shows something for a healthy node (web1) and every query in it
// returns data (with $node set to one of the fleet's nodes) from a real Prometheus that scrapes a
// real receiver (receiver.nodeSeries problems, the default) fed a small fleet (a direct node, a relayed one behind
// a dropping firewall without a /64, a stale one, a sender with a wrong community, a tagged peer
// without an agent, one whose notifications the scraper's filter drops) and a real node-exporter
// carrying a node's textfile, with the shipped rules loaded.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { NodeMetrics } from "../../agent/metrics-node";
import { startNodeExporter, type NodeExporter } from "../helpers/node-exporter";
import { waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { startPrometheus, type Prometheus } from "../helpers/prometheus";
import { sampleNodeState } from "../helpers/sample-node-state";
import { defaultScenario, startFakeTailscaled, type ExtraPeer, type FakeTailscaled } from "../helpers/tailscaled";
import { COMMUNITY, edgeValues, snmptrap, snmptrapVarbindArgs, startTestReceiver, tree, type TestReceiver } from "./receiver-support";

const PACKAGING = resolve(__dirname, "../../packaging");
const DASHBOARD = JSON.parse(readFileSync(join(PACKAGING, "grafana/edge-agent-fleet.json"), "utf8")) as Dashboard;
/** Panel types that ship with Grafana itself: the dashboard must need no plugin. */
const CORE_PANELS = new Set(["row", "stat", "timeseries", "table", "piechart", "bargauge", "state-timeline", "gauge", "text"]);

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { type: string; uid: string } }[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { type: string; name: string; query: unknown }[] };
}

/** A query as Grafana sends it for a node (its $__rate_interval floor: 4 scrape intervals). */
const asSent = (expr: string, node = "web1") => expr.replaceAll("$node", node).replaceAll("$__rate_interval", "10s");

describeWith({ binaries: ["prometheus", "prometheus-node-exporter", "snmptrap"] }, "Grafana dashboard against a real Prometheus", () => {
  let r: TestReceiver;
  let nodeExporter: NodeExporter;
  let prometheus: Prometheus;
  let tailscaled: FakeTailscaled;
  let dir: string;
  let heartbeats: NodeJS.Timeout | undefined;
  const send = (node: string, seq: number, overrides = {}, community = COMMUNITY) =>
    snmptrap(["-v2c", "-r", "0", "-c", community, `127.0.0.1:${r.port}`, "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(edgeValues(node, seq, overrides))]);
  const db1 = { edgeAgentScraperPath: "relay", edgeAgentScraperFamily: "none", edgeAgentScraperEndpoint: "fra", edgeAgentPrimaryPrefix: "", edgeAgentPrefixInAllocation: "unknown", edgeAgentFirewallInboundIpv6: "drop", edgeAgentTailnetTags: "tag:monitor,tag:db" };
  const query = (expr: string) => prometheus.query(expr);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ea-dashboard-"));
    // A 1 s heartbeat and 5 of them before a node is stale: web1 and db1 keep reporting, old1
    // reports once and goes stale within seconds.
    // The scraper's tailscaled: quiet1 is tagged but has no agent (silent after those 5 s), and
    // its packet filter has no entry for db1's udp/162.
    const peers: ExtraPeer[] = ["web1", "db1", "old1", "quiet1"].map((hostName, i) => ({ hostName, ips: [`100.101.0.${i + 1}`], tags: ["tag:monitor"] }));
    const admitted = peers.filter((p) => p.hostName !== "db1").flatMap((p) => p.ips);
    tailscaled = await startFakeTailscaled({ ...defaultScenario(), selfHostName: "scraper", selfTags: ["tag:scraper"], selfIps: ["100.64.0.1"], peers, packetFilter: [{ SrcIPs: admitted, DstPorts: [{ IP: "100.64.0.1", Ports: { First: 162, Last: 162 } }], IPProto: [17] }] });
    r = await startTestReceiver({ staleAfterHeartbeats: 5 }, { raw: { run: { heartbeat: "1s" }, tailscale: { socket: tailscaled.socket } } });
    let seq = 1;
    expect((await send("old1", 1)).code).toBe(0);
    expect((await send("web1", seq)).code).toBe(0);
    expect((await send("db1", seq, db1)).code).toBe(0);
    expect((await send("web1", 1, {}, "wrong-community")).code).toBe(0);
    heartbeats = setInterval(() => {
      seq++;
      void send("web1", seq);
      void send("db1", seq, db1);
    }, 1000);

    const textfiles = join(dir, "textfile");
    const metrics = new NodeMetrics();
    metrics.update({ state: sampleNodeState({ hostname: "web1" }), cycleEndedAtMs: Date.now(), cycleDurationMs: 20, sink: { dropped: 0, targets: [{ target: "scraper:162", sent: 3, acknowledged: 3, queued: 1, failed: 0 }] }, agentxRegistered: true });
    mkdirSync(textfiles);
    writeFileSync(join(textfiles, "edge-agent.prom"), await metrics.render());
    nodeExporter = await startNodeExporter({ textfileDir: textfiles });

    prometheus = await startPrometheus([
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      `rule_files: ["${join(PACKAGING, "prometheus/edge-agent.rules.yml")}"]`,
      "scrape_configs:",
      "  - job_name: edge-receiver",
      `    static_configs: [{ targets: ["${new URL(r.metricsUrl).host}"] }]`,
      "  - job_name: node",
      `    static_configs: [{ targets: ["127.0.0.1:${nodeExporter.port}"], labels: { node: web1 } }]`,
    ]);
  });
  afterAll(async () => {
    if (heartbeats) clearInterval(heartbeats);
    await prometheus?.stop();
    await nodeExporter?.stop();
    await r?.stop();
    await tailscaled?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("uses core panels and the Prometheus datasource variable only", () => {
    const datasource = DASHBOARD.templating.list.find((v) => v.type === "datasource");
    expect(datasource).toMatchObject({ name: "datasource", query: "prometheus" });
    for (const panel of DASHBOARD.panels) {
      expect(CORE_PANELS.has(panel.type), `${panel.title}: ${panel.type} is not a core panel`).toBe(true);
      if (panel.type === "row") continue;
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
  });

  it("offers the fleet's nodes in its node variable", async () => {
    const variable = DASHBOARD.templating.list.find((v) => v.name === "node") as { query: string };
    const [, metric, label] = /^label_values\((\w+), (\w+)\)$/.exec(variable.query)!;
    const values = await waitFor("node values", async () => {
      const res = (await (await fetch(`${prometheus.url}/api/v1/label/${label}/values?match[]=${metric}`)).json()) as { data: string[] };
      return res.data.length >= 3 ? res.data : null;
    }, 30_000, 500);
    expect(values).toEqual(expect.arrayContaining(["db1", "old1", "web1"]));
  });

  it("fills every panel for a healthy node, and each query returns data for some node", async () => {
    // Under receiver.nodeSeries problems the receiver writes a healthy node's per-node series no
    // more: a panel on $node must still show web1 (direct, services up, firewall accepting)
    // through another of its queries; a query for stale or broken nodes only (the receiver's
    // last-seen time) shows old1 or db1.
    const panels = DASHBOARD.panels.filter((p) => p.targets?.length).map((p) => ({ title: p.title, exprs: p.targets!.map((t) => t.expr) }));
    expect(panels.flatMap((p) => p.exprs).length).toBeGreaterThan(20);
    const hasData = async (expr: string, nodes: string[]) => {
      for (const node of nodes) if ((await query(asSent(expr, node))).length > 0) return true;
      return false;
    };
    const empty = async () => {
      const out: string[] = [];
      for (const p of panels) {
        const forWeb1 = await Promise.all(p.exprs.map((e) => hasData(e, ["web1"])));
        if (!forWeb1.some(Boolean)) out.push(`${p.title}: nothing for web1`);
        for (const [i, e] of p.exprs.entries()) if (!forWeb1[i] && !(await hasData(e, ["db1", "old1"]))) out.push(`${p.title}: ${e}`);
      }
      return out;
    };
    let last: string[] = [];
    await waitFor("every panel and query to return data", async () => {
      last = await empty();
      return last.length === 0;
    }, 45_000, 1000).catch(() => {
      throw new Error(`without data:\n${last.join("\n")}`);
    });
  });

  it("shows a healthy node's path, services and firewall, though the receiver writes none of its series", async () => {
    const panel = (title: string) => DASHBOARD.panels.find((p) => p.title === title && p.targets?.[0].expr.includes("$node"))!.targets![0].expr;
    const labels = async (title: string, node: string, label: string) => (await query(asSent(panel(title), node))).map((s) => `${s.metric[label]}=${s.value[1]}`).sort();
    expect(await query('edge_fleet_node_scraper_path{node="web1"}')).toEqual([]);
    expect(await labels("Path to the scraper", "web1", "path")).toEqual(["direct=1"]);
    expect(await labels("Path to the scraper", "db1", "path")).toEqual(["relay=1"]);
    expect(await labels("Services", "web1", "service")).toEqual(["node_exporter=1", "snmpd=1"]);
    expect((await query(asSent(panel("Firewall verdicts")))).map((s) => `${s.metric.check} ${s.metric.verdict}`)).toContain("inbound-ipv6 accept");
  });

  it("shows the fleet as it is: two of three nodes direct and with a /64, one stale, db1's drop", async () => {
    const value = async (expr: string) => Number((await query(expr))[0].value[1]);
    // The stat panels and the recording rules they match, on the receiver's fleet counts.
    const stat = (title: string) => DASHBOARD.panels.find((p) => p.title === title && p.type === "stat")!.targets![0].expr;
    for (const expr of ["edge_fleet:nodes:count", stat("Nodes")]) expect(await value(expr), expr).toBe(3);
    for (const expr of ["edge_fleet:nodes_stale:count", stat("Stale")]) expect(await value(expr), expr).toBe(1);
    for (const expr of ["edge_fleet:nodes_direct_path:ratio", stat("Direct path")]) expect(await value(expr), expr).toBeCloseTo(2 / 3);
    for (const expr of ["edge_fleet:nodes_with_global_ipv6:ratio", stat("With a global /64")]) expect(await value(expr), expr).toBeCloseTo(2 / 3);
    for (const expr of ["edge_fleet:nodes_prefix_in_allocation:ratio", stat("/64 inside the allocation")]) expect(await value(expr), expr).toBeCloseTo(2 / 3);
    expect(await value('edge_fleet:nodes_by_firewall_verdict:count{check="inbound-ipv6",verdict="drop"}')).toBe(1);
    expect((await query('max by (node) (edge_fleet_node_silent) == 1')).map((s) => s.metric.node)).toEqual(["quiet1"]);
    expect((await query('max by (node) (edge_fleet_node_notify_verdict{verdict="drop"})')).map((s) => s.metric.node)).toEqual(["db1"]);
  });
});
