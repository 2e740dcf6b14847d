// The shipped rules and the receiver's own Alertmanager posting describe the same problems with
// the same label sets, so an operator who turns both on gets one alert per problem in a real
// Alertmanager, not two: checked for all six shared alerts while Prometheus's are pending, and
// end to end for EdgeNodeStale once Prometheus fires it after its `for: 1m`.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freeTcpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { startDaemon, type Daemon } from "../helpers/process";
import { startPrometheus, type Prometheus } from "../helpers/prometheus";
import { defaultScenario, startFakeTailscaled, type FakeTailscaled } from "../helpers/tailscaled";
import { COMMUNITY, edgeValues, snmptrap, snmptrapVarbindArgs, startTestReceiver, tree, type TestReceiver } from "./receiver-support";

const RULES = resolve(__dirname, "../../packaging/prometheus/edge-agent.rules.yml");
const SHARED = ["EdgeFirewallBlocksTailscale", "EdgeTailnetPolicyBlocksScraper", "EdgeScraperPathRelayed", "EdgeServiceDown", "EdgeNodeStale", "EdgeNodeSilent"];

interface AmAlert {
  labels: Record<string, string>;
}
interface PromAlert {
  labels: Record<string, string>;
  state: string;
}

const key = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

describeWith({ binaries: ["prometheus", "prometheus-alertmanager", "snmptrap"] }, "alerts from the rules and from the receiver, both on", () => {
  let am: Daemon;
  let amUrl: string;
  let dir: string;
  let r: TestReceiver;
  let prometheus: Prometheus;
  let tailscaled: FakeTailscaled;
  let heartbeats: NodeJS.Timeout | undefined;
  const send = (node: string, seq: number, overrides = {}) =>
    snmptrap(["-v2c", "-r", "0", "-c", COMMUNITY, `127.0.0.1:${r.port}`, "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(edgeValues(node, seq, overrides))]);
  const edge1 = { edgeAgentFirewallInboundIpv6: "drop", edgeAgentPolicyPollSnmpd: "drop", edgeAgentScraperPath: "relay", edgeAgentScraperEndpoint: "fra", edgeAgentSnmpdUp: false };
  const amAlerts = async (): Promise<AmAlert[]> => (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as AmAlert[];
  const promAlerts = async (): Promise<PromAlert[]> => ((await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: PromAlert[] } }).data.alerts;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ea-alert-sources-"));
    const port = await freeTcpPort();
    amUrl = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, "alertmanager.yml"), "route: { receiver: blackhole, group_wait: 1s }\nreceivers: [{ name: blackhole }]\n");
    am = startDaemon("prometheus-alertmanager", [`--config.file=${join(dir, "alertmanager.yml")}`, `--storage.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address=", "--log.level=warn"]);
    await waitFor("alertmanager ready", async () => (await fetch(`${amUrl}/-/ready`).catch(() => null))?.ok, 30_000, 200).catch((e) => {
      throw new Error(`${(e as Error).message}\n${am.output()}`);
    });
    // edge1 and edge2 keep reporting; gone1 stops and is stale after 10 one-second heartbeats
    // (10 missed, so a slow snmptrap on a busy machine does not make the others flap).
    // The scraper's tailscaled lists quiet1, tagged but without an agent: silent after 10 s too.
    tailscaled = await startFakeTailscaled({ ...defaultScenario(), selfHostName: "scraper", selfTags: ["tag:scraper"], peers: ["edge1", "edge2", "gone1", "quiet1"].map((hostName, i) => ({ hostName, ips: [`100.101.0.${i + 1}`], tags: ["tag:monitor"] })) });
    r = await startTestReceiver({ alertmanager: amUrl, staleAfterHeartbeats: 10 }, { alertResendMs: 1000, raw: { run: { heartbeat: "1s" }, tailscale: { socket: tailscaled.socket } } });
    let seq = 1;
    expect((await send("gone1", 1)).code).toBe(0);
    expect((await send("edge1", seq, edge1)).code).toBe(0);
    expect((await send("edge2", seq)).code).toBe(0);
    heartbeats = setInterval(() => {
      seq++;
      void send("edge1", seq, edge1);
      void send("edge2", seq);
    }, 700);
    prometheus = await startPrometheus([
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      `rule_files: ["${RULES}"]`,
      "alerting:",
      `  alertmanagers: [{ static_configs: [{ targets: ["127.0.0.1:${port}"] }] }]`,
      "scrape_configs:",
      "  - job_name: edge-receiver",
      `    static_configs: [{ targets: ["${new URL(r.metricsUrl).host}"] }]`,
    ]);
  });
  afterAll(async () => {
    if (heartbeats) clearInterval(heartbeats);
    await prometheus?.stop();
    await r?.stop();
    await am?.stop();
    await tailscaled?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("gives each of the six shared alerts the same label sets from both sources", async () => {
    const fromRules = await waitFor("the rules' alerts for edge1, gone1 and quiet1", async () => {
      const list = (await promAlerts()).filter((a) => SHARED.includes(a.labels.alertname));
      return list.length === 6 ? list : null;
    }, 30_000, 500);
    const fromReceiver = await waitFor("the receiver's alerts", async () => {
      const list = (await amAlerts()).filter((a) => SHARED.includes(a.labels.alertname));
      return list.length === 6 ? list : null;
    }, 30_000, 500);
    expect(fromRules.map((a) => key(a.labels)).sort()).toEqual(fromReceiver.map((a) => key(a.labels)).sort());
    expect(fromRules.map((a) => `${a.labels.alertname} ${a.labels.node}`).sort()).toEqual(["EdgeFirewallBlocksTailscale edge1", "EdgeNodeSilent quiet1", "EdgeNodeStale gone1", "EdgeScraperPathRelayed edge1", "EdgeServiceDown edge1", "EdgeTailnetPolicyBlocksScraper edge1"]);
  });

  it("holds one EdgeNodeStale in Alertmanager after Prometheus fires it too", async () => {
    await waitFor("Prometheus to fire EdgeNodeStale and send it", async () => {
      const firing = (await promAlerts()).some((a) => a.labels.alertname === "EdgeNodeStale" && a.state === "firing");
      const sent = (await fetch(`${prometheus.url}/metrics`).then((res) => res.text())).match(/^prometheus_notifications_sent_total\{[^}]*\} (\d+)/m);
      return firing && sent !== null && Number(sent[1]) > 0;
    }, 100_000, 1000);
    // Both sources keep sending it (the receiver every second, Prometheus every evaluation).
    await new Promise((done) => setTimeout(done, 3000));
    const stale = (await amAlerts()).filter((a) => a.labels.alertname === "EdgeNodeStale");
    expect(stale.map((a) => a.labels)).toEqual([{ alertname: "EdgeNodeStale", node: "gone1", severity: "critical" }]);
  }, 120_000);
});
