// Fleet completeness and the notify-scraper verdicts, against the packaged receiver started as
// its unit does and the scraper's tailscaled played by the LocalAPI test server: peers carrying
// the node tag but no agent become file_sd targets labelled silent and, past the stale window,
// edge_fleet_node_silent with an EdgeNodeSilent alert in a real Alertmanager naming the likely
// cause (the peer whose entry the scraper's packet filter lacks: the ACL drops its udp/162);
// a peer that reports moves to reporting, and its EdgeNodeStale names the filter once it drops
// the node; peers are re-read, not saved with the fleet.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parse } from "yaml";
import type { FilterRule } from "../../agent/policy/packet-filter";
import { savedNodes } from "../../agent/receiver/fleet-file";
import { describeWith } from "../helpers/prereqs";
import { freeTcpPort, freeUdpPort, waitFor } from "../helpers/ports";
import { startDaemon, type Daemon } from "../helpers/process";
import { defaultScenario, startFakeTailscaled, type ExtraPeer, type FakeTailscaled } from "../helpers/tailscaled";
import { startUnit } from "../helpers/unit-exec";
import { edgeValues, metricsText, sample, snmptrap, snmptrapVarbindArgs, tree } from "./receiver-support";

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const SCRAPER_IPS = ["100.64.0.1", "fd7a:115c:a1e0::1"];
const NODE1: ExtraPeer = { hostName: "node1", ips: ["100.101.0.1", "fd7a:115c:a1e0::101"], tags: ["tag:monitor"] };
const NODE2: ExtraPeer = { hostName: "node2", ips: ["100.101.0.2", "fd7a:115c:a1e0::102"], tags: ["tag:monitor"] };
const DESK: ExtraPeer = { hostName: "desk", ips: ["100.101.0.3"] };
// MagicDNS would never give this name, but a peer's name is not the receiver's to trust.
const ODD: ExtraPeer = { hostName: "odd", dnsName: "web_1.example-tailnet.ts.net.", ips: ["100.101.0.4"], tags: ["tag:monitor"] };

/** The scraper's filter as control compiles the seed policy, but with node2's addresses missing from the notify rule. */
function scraperFilter(admitted: ExtraPeer[]): FilterRule[] {
  return [{ SrcIPs: admitted.flatMap((p) => p.ips), DstPorts: SCRAPER_IPS.map((ip) => ({ IP: ip, Ports: { First: 162, Last: 162 } })), IPProto: [17] }];
}

describeWith({ binaries: ["prometheus-alertmanager", "snmptrap"] }, "receiver: tagged peers and the notify-scraper verdict (packaged unit)", () => {
  let dir: string;
  let tailscaled: FakeTailscaled;
  let am: Daemon;
  let amUrl: string;
  let port: number;
  let metricsUrl: string;
  let configPath: string;
  let child: Daemon | null = null;
  const lines = () => child!.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const start = async () => {
    child = startUnit(["receive", "--config", configPath], { unit: "edge-agent-receiver.service" });
    await waitFor("receiver started", () => lines().some((l) => l.msg === "receiver started"), 20_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${child!.output()}`);
    });
  };
  const fileSd = () => parse(readFileSync(join(dir, "sd.yml"), "utf8")) as { targets: string[]; labels: Record<string, string> }[];
  const byNode = () => Object.fromEntries(fileSd().map((g) => [g.labels.node, g]));
  const amAlerts = async (): Promise<AmAlert[]> => ((await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as AmAlert[]).filter((a) => a.labels.alertname === "EdgeNodeSilent");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ea-receiver-peers-"));
    tailscaled = await startFakeTailscaled({
      ...defaultScenario(),
      selfHostName: "scraper",
      selfTags: ["tag:scraper"],
      selfIps: SCRAPER_IPS,
      scraperHostName: "prom2",
      scraperIps: ["100.64.0.2"],
      peers: [NODE1, NODE2, DESK, ODD],
      packetFilter: scraperFilter([NODE1]),
      access: "read",
    });
    const amPort = await freeTcpPort();
    amUrl = `http://127.0.0.1:${amPort}`;
    writeFileSync(join(dir, "alertmanager.yml"), "route: { receiver: blackhole, group_wait: 1s }\nreceivers: [{ name: blackhole }]\n");
    am = startDaemon("prometheus-alertmanager", [`--config.file=${join(dir, "alertmanager.yml")}`, `--storage.path=${join(dir, "am")}`, `--web.listen-address=127.0.0.1:${amPort}`, "--cluster.listen-address=", "--log.level=warn"]);
    await waitFor("alertmanager ready", async () => (await fetch(`${amUrl}/-/ready`)).ok, 30_000, 200);
    port = await freeUdpPort();
    const metricsPort = await freeTcpPort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    configPath = join(dir, "config.yaml");
    // A 2 s stale window (heartbeat 2s x 1) and a 1 s re-read, so the test sees both.
    writeFileSync(
      configPath,
      [
        `tailscale: { socket: ${tailscaled.socket} }`,
        "run: { heartbeat: 2s }",
        "receiver:",
        `  listen: ["udp:127.0.0.1:${port}"]`,
        "  communities: [peers-community]",
        `  metrics: "127.0.0.1:${metricsPort}"`,
        `  fileSd: ${join(dir, "sd.yml")}`,
        `  state: ${join(dir, "fleet.json")}`,
        `  alertmanager: ${amUrl}`,
        "  staleAfterHeartbeats: 1",
        "  tailnetRefresh: 1s",
      ].join("\n"),
    );
    await start();
  });
  afterAll(async () => {
    await child?.stop();
    await am?.stop();
    await tailscaled?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists tagged peers without an agent as file_sd targets labelled silent, and only those", async () => {
    await waitFor("two targets", () => {
      try {
        return fileSd().length === 2;
      } catch {
        return false;
      }
    }, 10_000);
    expect(byNode()).toEqual({
      node1: { targets: ["node1:9100"], labels: { node: "node1", tailnet_tags: "tag:monitor", ipv6_prefix: "", scraper_path: "", agent: "silent" } },
      node2: { targets: ["node2:9100"], labels: { node: "node2", tailnet_tags: "tag:monitor", ipv6_prefix: "", scraper_path: "", agent: "silent" } },
    });
    // The tagged peer whose name is no DNS label is said, not listed.
    expect(lines().some((l) => l.category === "tailnet-peer-name" && l.peer === "web_1")).toBe(true);
  });

  it("decides notify-scraper per node from the scraper's filter, and makes them silent past the window", async () => {
    const text = await waitFor("both silent", async () => {
      const t = await metricsText(metricsUrl);
      return sample(t, 'edge_fleet_node_silent{node="node1"}') === 1 && sample(t, 'edge_fleet_node_silent{node="node2"}') === 1 ? t : null;
    }, 15_000, 200);
    expect(sample(text, 'edge_fleet_node_notify_verdict{node="node1",verdict="accept"}')).toBe(1);
    expect(sample(text, 'edge_fleet_node_notify_verdict{node="node2",verdict="drop"}')).toBe(1);
    expect(text).not.toContain('node="desk"');
    expect(lines().find((l) => l.category === "notify-verdict" && l.node === "node2")).toMatchObject({ verdict: "drop", decidedBy: expect.stringMatching(/^default deny/) });
  });

  it("alerts EdgeNodeSilent naming the likely cause: the ACL drops node2's udp/162, node1 has no agent", async () => {
    const alerts = await waitFor("two EdgeNodeSilent", async () => {
      const list = await amAlerts();
      return list.length === 2 ? list : null;
    }, 15_000, 200);
    const of = (node: string) => alerts.find((a) => a.labels.node === node)!;
    expect(of("node2").labels).toMatchObject({ alertname: "EdgeNodeSilent", severity: "warning" });
    expect(of("node2").annotations.summary).toMatch(/^node2: carries tag:monitor but no notification .*; likely cause: the scraper's tailnet policy drops udp\/162 from node2 \(default deny/);
    expect(of("node2").annotations.description).toContain('{"action": "accept", "src": ["tag:monitor"], "dst": ["tag:scraper:162"], "proto": "udp"}');
    expect(of("node1").annotations.summary).toContain("likely cause: no edge-agent runs on node1, or its notifications do not reach the scraper");
  });

  it("re-reads the filter: once the entry is there, node2's verdict turns accept and the cause changes", async () => {
    tailscaled.scenario = { ...tailscaled.scenario, packetFilter: scraperFilter([NODE1, NODE2]) };
    await waitFor("node2 accept", async () => sample(await metricsText(metricsUrl), 'edge_fleet_node_notify_verdict{node="node2",verdict="accept"}') === 1, 10_000, 200);
    await waitFor("node2's cause updated", async () => (await amAlerts()).find((a) => a.labels.node === "node2")?.annotations.summary.includes("no edge-agent runs on node2"), 10_000, 200);
  });

  it("moves a peer that reports from silent to reporting", async () => {
    const send = (seq: number) => snmptrap(["-v2c", "-Ci", "-r", "0", "-c", "peers-community", `127.0.0.1:${port}`, "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(edgeValues("node1", seq))]);
    expect((await send(1)).code).toBe(0);
    await waitFor("node1 reporting in file_sd", () => byNode().node1?.labels.agent === "reporting", 10_000);
    expect(byNode().node1.labels).toMatchObject({ node: "node1", scraper_path: "direct", ipv6_prefix: "2001:db8:100:1::/64" });
    expect(byNode().node2.labels.agent).toBe("silent");
    const text = await metricsText(metricsUrl);
    // Under the default receiver.nodeSeries (problems) a reporting peer has no silent series left.
    expect(sample(text, 'edge_fleet_node_silent{node="node1"}')).toBeNull();
    expect(sample(text, 'edge_fleet_node_silent{node="node2"}')).toBe(1);
    expect(sample(text, 'edge_fleet_node_up{node="node1"}')).toBe(1);
    await waitFor("node1's EdgeNodeSilent resolved", async () => (await amAlerts()).map((a) => a.labels.node).join() === "node2", 15_000, 200);
  });

  it("names the scraper's filter in a reporting node's EdgeNodeStale once the filter drops its udp/162", async () => {
    // node1 reported once and goes stale after its 2 s window; now its filter entry goes.
    tailscaled.scenario = { ...tailscaled.scenario, packetFilter: scraperFilter([NODE2]) };
    const stale = await waitFor("node1's EdgeNodeStale naming the policy", async () => {
      const list = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as AmAlert[];
      return list.find((a) => a.labels.alertname === "EdgeNodeStale" && a.labels.node === "node1" && a.annotations.summary.includes("likely cause"));
    }, 15_000, 200);
    expect(stale.annotations.summary).toMatch(/; likely cause: the scraper's tailnet policy drops its udp\/162 \(default deny: no rule of 1 admits udp\/162 from 100\.101\.0\.1 to 100\.64\.0\.1\)$/);
    expect(stale.annotations.description).toContain('"dst": ["tag:scraper:162"]');
  });

  it("saves only reporting nodes, and re-reads the peers after a restart", async () => {
    child!.child.kill("SIGTERM");
    await child!.ended;
    const saved = savedNodes(JSON.parse(readFileSync(join(dir, "fleet.json"), "utf8")));
    expect(saved.map((n) => n?.node)).toEqual(["node1"]);
    // A peer left the tailnet while the receiver was down: it is no target after the restart.
    tailscaled.scenario = { ...tailscaled.scenario, peers: [NODE1, DESK] };
    await start();
    await waitFor("node2 gone", () => byNode().node2 === undefined && byNode().node1?.labels.agent === "reporting", 10_000);
  });
});
