// The shipped snmp_exporter module (packaging/snmp_exporter/, kept equal to the generator's
// output by scraper-files.test.ts): Debian's real prometheus-snmp-exporter with that module polls a real snmpd whose EDGE-AGENT-MIB objects an AgentX subagent serves, returns every object
// with the node's values (states by name), and promtool finds the output clean.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { configFromObject } from "../../agent/config";
import { collectNodeState } from "../../agent/probes/collect";
import { AgentxSubagent } from "../../agent/snmp/agentx";
import { oidTree } from "../../agent/snmp/oid-tree";
import { stateObjects } from "../../agent/snmp/state-objects";
import { AGENT_VERSION } from "../../agent/version";
import { metricName, polledObjects } from "../../scripts/scraper-files/snmp-exporter";
import { freeTcpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { startDaemon, type Daemon } from "../helpers/process";
import { startSnmpd, type Snmpd } from "../helpers/snmpd";
import { defaultScenario, startFakeTailscaled, type FakeTailscaled } from "../helpers/tailscaled";

const MODULE_FILE = resolve(__dirname, "../../packaging/snmp_exporter/snmp.yml");

/** sample lines of an exposition, name{labels} -> value */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

describeWith({ binaries: ["snmpd", "prometheus-snmp-exporter", "promtool"] }, "snmp_exporter module for EDGE-AGENT-MIB", () => {
  let tailscaled: FakeTailscaled;
  let snmpd: Snmpd;
  let subagent: AgentxSubagent;
  let exporter: Daemon;
  let exporterUrl: string;
  const scrape = async () => (await fetch(`${exporterUrl}/snmp?module=edge_agent&target=127.0.0.1:${snmpd.port}`)).text();

  beforeAll(async () => {
    tailscaled = await startFakeTailscaled({ ...defaultScenario(), selfIps: ["127.0.0.1"] });
    const agentxPort = await freeTcpPort();
    // The shipped module asks with community public, as snmp_exporter's own default does.
    snmpd = await startSnmpd({ community: "public", extra: ["master agentx", `agentXSocket tcp:127.0.0.1:${agentxPort}`] });
    const config = configFromObject(
      {
        tailscale: { socket: tailscaled.socket },
        probes: { timeout: "3s", nodeExporter: { url: "http://127.0.0.1:9/metrics" }, snmpd: { port: snmpd.port, community: "public" } },
        agentx: { master: `tcp:127.0.0.1:${agentxPort}` },
      },
      null,
    );
    subagent = new AgentxSubagent(config.agentx.master, oidTree(), pino({ level: "silent" }));
    subagent.update(stateObjects(await collectNodeState(config)));
    subagent.start();
    await waitFor("the subagent to register", () => subagent.registered, 10_000);
    const port = await freeTcpPort();
    exporterUrl = `http://127.0.0.1:${port}`;
    exporter = startDaemon("prometheus-snmp-exporter", [`--config.file=${MODULE_FILE}`, `--web.listen-address=127.0.0.1:${port}`]);
    await waitFor("snmp_exporter ready", async () => (await fetch(exporterUrl).catch(() => null))?.ok, 10_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}\n${exporter.output()}`);
    });
  });

  afterAll(async () => {
    await exporter?.stop();
    await subagent?.close();
    await snmpd?.stop();
    await tailscaled?.stop();
  });

  it("returns every object AgentX serves, states by name, with the node's values", async () => {
    const text = await scrape();
    const s = samples(text);
    for (const o of polledObjects()) expect([...s.keys()].some((k) => k === metricName(o.name) || k.startsWith(`${metricName(o.name)}{`)), `${o.name} missing:\n${text}`).toBe(true);
    expect(s.get('edge_agent_mib_tailnet_name{edge_agent_mib_tailnet_name="node1.example-tailnet.ts.net"}')).toBe(1);
    expect(s.get('edge_agent_mib_tailnet_tags{edge_agent_mib_tailnet_tags="tag:monitor"}')).toBe(1);
    expect(s.get(`edge_agent_mib_version{edge_agent_mib_version="${AGENT_VERSION}"}`)).toBe(1);
    expect(s.get('edge_agent_mib_scraper_path{edge_agent_mib_scraper_path="direct"}')).toBe(1);
    expect(s.get('edge_agent_mib_scraper_path{edge_agent_mib_scraper_path="relay"}')).toBe(0);
    expect(s.get('edge_agent_mib_scraper_family{edge_agent_mib_scraper_family="ipv6"}')).toBe(1);
    // TruthValue as a state set: snmpd answered the agent's probe, node-exporter (port 9) did not.
    expect(s.get('edge_agent_mib_snmpd_up{edge_agent_mib_snmpd_up="true"}')).toBe(1);
    expect(s.get('edge_agent_mib_node_exporter_up{edge_agent_mib_node_exporter_up="false"}')).toBe(1);
    expect(s.get('edge_agent_mib_node_exporter_up{edge_agent_mib_node_exporter_up="true"}')).toBe(0);
  });

  it("shows a relayed path by its name after the node changes", async () => {
    tailscaled.scenario.scraperPath = "relay";
    const config = configFromObject(
      { tailscale: { socket: tailscaled.socket }, probes: { timeout: "3s", nodeExporter: { url: "http://127.0.0.1:9/metrics" }, snmpd: { port: snmpd.port, community: "public" } } },
      null,
    );
    subagent.update(stateObjects(await collectNodeState(config)));
    const s = samples(await scrape());
    expect(s.get('edge_agent_mib_scraper_path{edge_agent_mib_scraper_path="relay"}')).toBe(1);
    expect(s.get('edge_agent_mib_scraper_path{edge_agent_mib_scraper_path="direct"}')).toBe(0);
    expect(s.get('edge_agent_mib_scraper_endpoint{edge_agent_mib_scraper_endpoint="fra"}')).toBe(1);
  });

  it("serves output that promtool check metrics passes without a finding", async () => {
    const text = await scrape();
    const result = await new Promise<{ code: number; out: string }>((done) => {
      const child = execFile("promtool", ["check", "metrics"], (error, stdout, stderr) => done({ code: error ? 1 : 0, out: `${stdout}${stderr}` }));
      child.stdin!.end(text);
    });
    expect(result).toEqual({ code: 0, out: "" });
  });
});
