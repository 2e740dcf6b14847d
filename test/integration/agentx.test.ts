// AgentX as the package runs it: the bundle started with edge-agent.service's command line and
// environment (W^X, --jitless) serves EDGE-AGENT-MIB through Debian's real snmpd as master.
// snmpwalk/snmpget (numeric OIDs) read every read-only object with the node's values (the tailnet
// policy's verdicts among them), see a change after the node changes, and see the objects again after snmpd restarts. The bundle is
// strict-mode code: on net-snmp 3.29.2 unpatched, every registration threw and nothing was served.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { OBJECTS, oidTree } from "../../agent/snmp/oid-tree";
import { AGENT_VERSION } from "../../agent/version";
import { freeTcpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import type { Daemon } from "../helpers/process";
import { netSnmpEnv, startSnmpd, type Snmpd } from "../helpers/snmpd";
import { defaultScenario, seedFilterRules, startFakeTailscaled, type FakeTailscaled } from "../helpers/tailscaled";
import { startUnit } from "../helpers/unit-exec";

const run = promisify(execFile);
const tree = oidTree();
const COMMUNITY = "edgetest";
const READ_ONLY = OBJECTS.filter((o) => o.access === "read-only");

async function snmp(tool: "snmpget" | "snmpwalk", port: number, oids: string[]): Promise<Map<string, string>> {
  const { stdout } = await run(tool, ["-v2c", "-c", COMMUNITY, "-On", "-Oq", "-t", "1", "-r", "1", `127.0.0.1:${port}`, ...oids], { env: netSnmpEnv() });
  const values = new Map<string, string>();
  for (const line of stdout.split("\n").filter(Boolean)) {
    const space = line.indexOf(" ");
    values.set(line.slice(0, space).replace(/^\./, ""), line.slice(space + 1).replace(/^"(.*)"$/, "$1"));
  }
  return values;
}

/** The daemon's JSON log lines so far. */
function logMessages(daemon: Daemon): string[] {
  return daemon
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
}

describeWith({ root: true, binaries: ["snmpd", "snmpget", "snmpwalk", "python3"] }, "AgentX from the packaged program through the real snmpd", () => {
  const dir = mkdtempSync(join(tmpdir(), "ea-agentx-"));
  let tailscaled: FakeTailscaled;
  let snmpd: Snmpd;
  let agentxPort: number;
  let agent: Daemon;
  const extra = () => ["master agentx", `agentXSocket tcp:127.0.0.1:${agentxPort}`];
  const failure = (error: Error) => new Error(`${error.message}\nagent: ${agent.output().slice(-3000)}\nsnmpd: ${snmpd.output().slice(-2000)}`);

  beforeAll(async () => {
    // Tailscale IP on loopback: the services' tailnet checks answer (or refuse) at once.
    tailscaled = await startFakeTailscaled({ ...defaultScenario(), selfIps: ["127.0.0.1"] });
    agentxPort = await freeTcpPort();
    snmpd = await startSnmpd({ extra: extra() });
    mkdirSync(join(dir, "textfile"));
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      [
        "run: { interval: 1s }",
        "probes: { timeout: 3s, nodeExporter: { url: 'http://127.0.0.1:9/metrics' }, snmpd: { port: " + snmpd.port + ", community: " + COMMUNITY + " } }",
        `tailscale: { socket: ${tailscaled.socket} }`,
        `notifications: { target: '127.0.0.1:1', inform: false, outbox: ${join(dir, "outbox")} }`,
        `textfile: { directory: ${join(dir, "textfile")} }`,
        `agentx: { master: 'tcp:127.0.0.1:${agentxPort}' }`,
        "",
      ].join("\n"),
    );
    agent = startUnit(["run", "--config", config]);
    await waitFor("every object to answer through snmpd", async () => (await snmp("snmpwalk", snmpd.port, [tree.objects])).size === READ_ONLY.length, 30_000, 250).catch((e) => {
      throw failure(e);
    });
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await snmpd?.stop();
    await tailscaled?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves every read-only object with the node's values, and the textfile says it is registered", async () => {
    const values = await snmp("snmpwalk", snmpd.port, [tree.objects]);
    expect([...values.keys()]).toEqual(READ_ONLY.map((o) => `${tree.objectOid(o.name)}.0`));
    const value = (name: string) => values.get(`${tree.objectOid(name)}.0`);
    expect(value("edgeAgentTailnetName")).toBe("node1.example-tailnet.ts.net");
    expect(value("edgeAgentTailnetTags")).toBe("tag:monitor");
    expect(value("edgeAgentTailnetState")).toBe("Running");
    expect(value("edgeAgentScraperPath")).toBe("1"); // direct
    expect(value("edgeAgentScraperFamily")).toBe("1"); // ipv6
    expect(value("edgeAgentScraperEndpoint")).toBe("[2001:db8:200:1::1]:41641");
    expect(value("edgeAgentSnmpdUp")).toBe("1"); // true: the probe reached this snmpd
    expect(value("edgeAgentNodeExporterUp")).toBe("2"); // false: nothing on port 9
    expect(value("edgeAgentVersion")).toBe(AGENT_VERSION);
    // The seed's rules: tailscaled admits the scraper's tcp/9100 and udp/161 (accept(1)).
    expect(value("edgeAgentPolicyScrapeNodeExporter")).toBe("1");
    expect(value("edgeAgentPolicyPollSnmpd")).toBe("1");
    await waitFor("edge_agent_agentx_registered 1 in the textfile", () => /^edge_agent_agentx_registered 1$/m.test(readFileSync(join(dir, "textfile/edge_agent.prom"), "utf8")), 10_000, 200);
    // The packaged daemon's textfile carries the same verdicts.
    expect(readFileSync(join(dir, "textfile/edge_agent.prom"), "utf8")).toMatch(/^edge_agent_tailnet_policy_verdict\{flow="scrape-node-exporter",verdict="accept"\} 1$/m);
    expect(logMessages(agent).filter((m) => m.startsWith("AgentX: serving"))).toHaveLength(1);
    expect(logMessages(agent).filter((m) => /proxy|falsish/.test(m))).toEqual([]);
  });

  it("shows a change after the node changes", async () => {
    tailscaled.scenario.selfTags = ["tag:monitor", "tag:iot"];
    tailscaled.scenario.scraperPath = "relay";
    // The policy loses its udp/161 entry: read again in the cycle the tag change starts.
    tailscaled.scenario.packetFilter = seedFilterRules(tailscaled.scenario).filter((_, i) => i !== 1);
    const tags = `${tree.objectOid("edgeAgentTailnetTags")}.0`;
    const poll = `${tree.objectOid("edgeAgentPolicyPollSnmpd")}.0`;
    const path = `${tree.objectOid("edgeAgentScraperPath")}.0`;
    const endpoint = `${tree.objectOid("edgeAgentScraperEndpoint")}.0`;
    const values = await waitFor("the new tags through snmpd", async () => {
      const v = await snmp("snmpget", snmpd.port, [tags, path, endpoint, poll]);
      return v.get(tags) === "tag:monitor,tag:iot" && v.get(path) === "2" ? v : null;
    }, 20_000, 250).catch((e) => {
      throw failure(e);
    });
    expect(values.get(endpoint)).toBe("fra");
    expect(values.get(poll)).toBe("2"); // drop
  });

  it("registers again when snmpd restarts, and the objects return", async () => {
    const version = `${tree.objectOid("edgeAgentVersion")}.0`;
    const port = snmpd.port;
    await snmpd.stop();
    await waitFor("the agent to notice", () => logMessages(agent).some((m) => m.includes("closed the AgentX session")), 10_000, 100).catch((e) => {
      throw failure(e);
    });
    snmpd = await startSnmpd({ port, extra: extra() });
    await waitFor("every object to return", async () => (await snmp("snmpwalk", port, [tree.objects])).size === READ_ONLY.length, 30_000, 250).catch((e) => {
      throw failure(e);
    });
    expect((await snmp("snmpget", port, [version])).get(version)).toBe(AGENT_VERSION);
    expect(logMessages(agent).filter((m) => m.startsWith("AgentX: serving"))).toHaveLength(2);
  });
});
