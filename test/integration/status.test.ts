// `edge-agent status` end to end: the real CLI with the real node-exporter and snmpd and the
// LocalAPI test server, printing the whole NodeState; and a hung tailscaled not holding it up.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import pkg from "../../package.json";
import { runAgent } from "../helpers/cli";
import { startNodeExporter, type NodeExporter } from "../helpers/node-exporter";
import { freeTcpPort, freeUdpPort } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { startSnmpd, type Snmpd } from "../helpers/snmpd";
import { defaultScenario, seedFilterRules, startFakeTailscaled, type FakeTailscaled, type Scenario } from "../helpers/tailscaled";

// Each test starts the CLI; on a loaded 2-core machine that alone can take many seconds.
const SPAWN_TIMEOUT = 120_000;

describeWith({ binaries: ["prometheus-node-exporter", "snmpd"] }, "edge-agent status with every service up", () => {
  let dir: string;
  let ts: FakeTailscaled;
  let exporter: NodeExporter;
  let snmpd: Snmpd;
  let config: string;
  // 127.0.0.2 plays the host's Tailscale IPv4: node-exporter and snmpd listen there too.
  const scenario = () => ({ ...defaultScenario(), selfIps: ["127.0.0.2"], scraperPath: "direct6" as const });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ea-status-"));
    const tcp = await freeTcpPort();
    const udp = await freeUdpPort();
    [ts, exporter, snmpd] = await Promise.all([
      startFakeTailscaled(scenario()),
      startNodeExporter({ port: tcp, listen: [`127.0.0.1:${tcp}`, `127.0.0.2:${tcp}`] }),
      startSnmpd({ port: udp, community: "edgetest", listen: [`udp:127.0.0.1:${udp}`, `udp:127.0.0.2:${udp}`] }),
    ]);
    config = join(dir, "config.yaml");
    writeFileSync(
      config,
      [
        "scraper: scraper.example-tailnet.ts.net",
        `tailscale: { socket: ${ts.socket}, expectedTags: [tag:monitor] }`,
        "probes:",
        // Generous: a loaded CI machine must not turn a slow answer into a wrong one.
        "  timeout: 5s",
        `  nodeExporter: { url: "${exporter.url}" }`,
        `  snmpd: { port: ${snmpd.port}, community: edgetest }`,
        "",
      ].join("\n"),
    );
  });
  afterAll(async () => {
    await Promise.all([ts?.stop(), exporter?.stop(), snmpd?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("--json prints every part of NodeState", async () => {
    ts.scenario = scenario();
    ts.requests.length = 0;
    const run = await runAgent(["status", "--json", "--config", config]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const state = JSON.parse(run.stdout);
    expect(Object.keys(state)).toEqual(["agent", "collectedAt", "host", "ipv6", "tailnet", "services", "firewall"]);
    expect(state.agent.version).toBe(pkg.version);
    expect(state.host.state).toBe("ok");
    expect(state.ipv6.state).toBe("ok");
    expect(state.tailnet).toMatchObject({
      state: "Running",
      source: "localapi",
      hostname: "node1",
      dnsName: "node1.example-tailnet.ts.net",
      ips: ["127.0.0.2"],
      tags: ["tag:monitor"],
      missingTags: [],
      port: 41641,
      scraper: { found: true, online: true, path: "direct", endpoint: "[2001:db8:200:1::1]:41641", family: "ipv6", relay: null },
    });
    expect(ts.requests.map((r) => r.url)).toContain("/localapi/v0/ping?ip=100.64.0.1&type=disco");
    // tailnet.policy: the seed's rules as control compiles them for this node, read once from the IPN bus.
    expect(state.tailnet.policy).toEqual({
      state: "ok",
      source: "ipn-bus",
      flows: [
        { id: "scrape-node-exporter", verdict: "accept", decidedBy: `rule 0: ${JSON.stringify(seedFilterRules(scenario())[0])}` },
        { id: "poll-snmpd", verdict: "accept", decidedBy: `rule 1: ${JSON.stringify(seedFilterRules(scenario())[1])}` },
      ],
    });
    expect(ts.requests.filter((r) => r.url.startsWith("/localapi/v0/watch-ipn-bus"))).toHaveLength(1);
    expect(state.services.nodeExporter).toMatchObject({ url: exporter.url, up: true, tailnetReachable: true });
    expect(state.services.nodeExporter.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(state.services.snmpd).toMatchObject({ target: `127.0.0.1:${snmpd.port}`, up: true, sysDescr: "edge-agent test snmpd", tailnetReachable: true });
    // The port tailscaled reports is the one the firewall questions are asked about.
    expect(state.firewall).toMatchObject({ state: "ok", port: 41641, portSource: "localapi" });
    expect(state.firewall.checks.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(["inbound-ipv6", "inbound-ipv4", "outbound-ipv6", "outbound-ipv4"]));
  }, SPAWN_TIMEOUT);

  it("the text form, for a person", async () => {
    ts.scenario = { ...scenario(), scraperPath: "relay", selfTags: null };
    const run = await runAgent(["status", "--config", config]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("tailnet   Running as node1.example-tailnet.ts.net 127.0.0.2\n");
    expect(run.stdout).toContain("          tags (none); missing tag:monitor\n");
    expect(run.stdout).toContain("          tailscaled bound UDP port 41641\n");
    expect(run.stdout).toMatch(/ {10}scraper scraper\.example-tailnet\.ts\.net\.: relayed via DERP fra, 45\.6 ms\n/);
    expect(run.stdout).toMatch(/services  node-exporter up \d+\.\d+\.\d+, on the tailnet IP: yes\n/);
    expect(run.stdout).toContain("          snmpd up, on the tailnet IP: yes\n");
    expect(run.stdout).toMatch(/^ {10}policy scrape-node-exporter +tcp\/9100 +ACCEPT +rule 0: \{"SrcIPs"/m);
    expect(run.stdout).toMatch(/^ {17}poll-snmpd +udp\/161 +ACCEPT +rule 1: /m);
  }, SPAWN_TIMEOUT);

  it("tailnet.policy: a missing rule drops its flow, shields-up drops both, a refused permission is unknown naming the command", async () => {
    const policyWith = async (change: Partial<Scenario>) => {
      ts.scenario = { ...scenario(), ...change };
      const run = await runAgent(["status", "--json", "--config", config]);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout).tailnet.policy;
    };
    const [missing, shields, refused] = [
      await policyWith({ packetFilter: seedFilterRules(scenario()).slice(1) }),
      await policyWith({ shieldsUp: true }),
      // A tailscaled whose bus lacks the rules: the debug endpoint refuses a caller without write access.
      await policyWith({ busWithoutRules: true, access: "read" }),
    ];
    expect(missing.flows).toEqual([
      { id: "scrape-node-exporter", verdict: "drop", decidedBy: "default deny: no rule of 2 admits tcp/9100 from 100.64.0.1 to 127.0.0.2", reason: "rule 0 admits 100.64.0.1 to 127.0.0.2 only for udp on ports 161" },
      { id: "poll-snmpd", verdict: "accept", decidedBy: expect.stringMatching(/^rule 0: /) },
    ]);
    expect(shields.flows.map((f: { verdict: string; decidedBy: string }) => `${f.verdict} ${f.decidedBy}`)).toEqual(["drop shields-up", "drop shields-up"]);
    expect(refused).toMatchObject({ state: "ok", source: null });
    for (const f of refused.flows) expect(f).toMatchObject({ verdict: "unknown", decidedBy: "localapi-permission", reason: expect.stringContaining(`sudo tailscale set --operator=${userInfo().username}`) });
  }, SPAWN_TIMEOUT);

  it("a tailscaled that never answers does not hold up the rest", async () => {
    ts.scenario = { ...scenario(), hang: ["status"] };
    const run = await runAgent(["status", "--json", "--config", config]);
    console.log(`status --json with a hung tailscaled (probes.timeout 5s): ${run.ms.toFixed(0)} ms wall time`);
    expect(run.code).toBe(0);
    const state = JSON.parse(run.stdout);
    const error = "cannot read tailscaled's status: tailscaled did not answer /localapi/v0/status within 5000 ms";
    expect(state.tailnet).toEqual({ state: "unavailable", code: "status-unreadable", error, missingTags: ["tag:monitor"], policy: { state: "unavailable", code: "tailnet-unavailable", error: `tailscaled's status could not be read: ${error}` } });
    expect(state.services.nodeExporter).toMatchObject({ up: true, tailnetReachable: null });
    expect(state.services.snmpd).toMatchObject({ up: true, tailnetReachable: null });
  }, SPAWN_TIMEOUT);
});
