// The AgentX subagent against Debian's real snmpd as master: snmpwalk/snmpget (numeric OIDs)
// read every read-only object of EDGE-AGENT-MIB with the node's values, see a change after the
// node changes, and see the objects again after snmpd restarts.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { configFromObject, type Config } from "../../agent/config";
import { collectNodeState } from "../../agent/probes/collect";
import { AgentxSubagent } from "../../agent/snmp/agentx";
import { OBJECTS, oidTree } from "../../agent/snmp/oid-tree";
import { stateObjects } from "../../agent/snmp/state-objects";
import { AGENT_VERSION } from "../../agent/version";
import { freeTcpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { netSnmpEnv, startSnmpd, type Snmpd } from "../helpers/snmpd";
import { defaultScenario, startFakeTailscaled, type FakeTailscaled } from "../helpers/tailscaled";

const run = promisify(execFile);
const tree = oidTree();
const COMMUNITY = "edgetest";

async function snmp(tool: "snmpget" | "snmpwalk", port: number, oids: string[]): Promise<Map<string, string>> {
  // Async on purpose: the subagent answers snmpd from this very process.
  const { stdout } = await run(tool, ["-v2c", "-c", COMMUNITY, "-On", "-Oq", "-t", "1", "-r", "1", `127.0.0.1:${port}`, ...oids], { env: netSnmpEnv() });
  const values = new Map<string, string>();
  for (const line of stdout.split("\n").filter(Boolean)) {
    const space = line.indexOf(" ");
    values.set(line.slice(0, space).replace(/^\./, ""), line.slice(space + 1).replace(/^"(.*)"$/, "$1"));
  }
  return values;
}

describeWith({ root: false, binaries: ["snmpd", "snmpget", "snmpwalk"] }, "AgentX subagent through the real snmpd", () => {
  let tailscaled: FakeTailscaled;
  let snmpd: Snmpd;
  let agentxPort: number;
  let config: Config;
  let subagent: AgentxSubagent;
  const logLines: { msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
  const extra = () => ["master agentx", `agentXSocket tcp:127.0.0.1:${agentxPort}`];

  beforeAll(async () => {
    // Tailscale IP on loopback: the services' tailnet checks answer (or refuse) at once.
    tailscaled = await startFakeTailscaled({ ...defaultScenario(), selfIps: ["127.0.0.1"] });
    agentxPort = await freeTcpPort();
    snmpd = await startSnmpd({ extra: extra() });
    config = configFromObject(
      {
        tailscale: { socket: tailscaled.socket },
        probes: { timeout: "3s", nodeExporter: { url: "http://127.0.0.1:9/metrics" }, snmpd: { port: snmpd.port, community: COMMUNITY } },
        agentx: { master: `tcp:127.0.0.1:${agentxPort}` },
      },
      null,
    );
    subagent = new AgentxSubagent(config.agentx.master, tree, logger);
    subagent.update(stateObjects(await collectNodeState(config)));
    subagent.start();
    await waitFor("the subagent to register", () => subagent.registered, 10_000);
  });

  afterAll(async () => {
    await subagent?.close();
    await snmpd?.stop();
    await tailscaled?.stop();
  });

  it("serves every read-only object with the node's values", async () => {
    const values = await snmp("snmpwalk", snmpd.port, [tree.objects]);
    const readOnly = OBJECTS.filter((o) => o.access === "read-only");
    expect([...values.keys()]).toEqual(readOnly.map((o) => `${tree.objectOid(o.name)}.0`));
    const value = (name: string) => values.get(`${tree.objectOid(name)}.0`);
    expect(value("edgeAgentTailnetName")).toBe("node1.example-tailnet.ts.net");
    expect(value("edgeAgentTailnetTags")).toBe("tag:monitor");
    expect(value("edgeAgentTailnetState")).toBe("Running");
    expect(value("edgeAgentScraperPath")).toBe("1"); // direct
    expect(value("edgeAgentScraperFamily")).toBe("1"); // ipv6
    expect(value("edgeAgentScraperEndpoint")).toBe("[2001:db8:200:1::1]:41641");
    expect(value("edgeAgentSnmpdUp")).toBe("1"); // true: the probe reached this snmpd
    expect(value("edgeAgentNodeExporterUp")).toBe("2"); // false: nothing on port 9
    expect(value("edgeAgentVersion")).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("answers a GET of each object and shows a change after the node changes", async () => {
    tailscaled.scenario.selfTags = ["tag:monitor", "tag:iot"];
    tailscaled.scenario.scraperPath = "relay";
    subagent.update(stateObjects(await collectNodeState(config)));
    const tags = `${tree.objectOid("edgeAgentTailnetTags")}.0`;
    const path = `${tree.objectOid("edgeAgentScraperPath")}.0`;
    const endpoint = `${tree.objectOid("edgeAgentScraperEndpoint")}.0`;
    const values = await snmp("snmpget", snmpd.port, [tags, path, endpoint]);
    expect(values.get(tags)).toBe("tag:monitor,tag:iot");
    expect(values.get(path)).toBe("2"); // relay
    expect(values.get(endpoint)).toBe("fra");
  });

  it("registers again when snmpd restarts, and the objects return", async () => {
    const version = `${tree.objectOid("edgeAgentVersion")}.0`;
    const port = snmpd.port;
    await snmpd.stop();
    await waitFor("the subagent to notice", () => !subagent.registered, 5000);
    snmpd = await startSnmpd({ port, extra: extra() });
    const values = await waitFor("the objects to return", async () => {
      const v = await snmp("snmpget", port, [version]);
      return v.get(version) === AGENT_VERSION ? v : null;
    }, 20_000, 250).catch((error) => {
      throw new Error(`${(error as Error).message}\nlog: ${logLines.map((l) => l.msg).join("\n")}\nsnmpd: ${snmpd.output().slice(-2000)}`);
    });
    expect(values.get(version)).toBe(AGENT_VERSION);
    await waitFor("every object to be registered again", () => subagent.registered, 5000);
    expect((await snmp("snmpwalk", port, [tree.objects])).size).toBe(OBJECTS.filter((o) => o.access === "read-only").length);
    expect(logLines.some((l) => l.msg.includes("closed the AgentX session"))).toBe(true);
    expect(logLines.filter((l) => l.msg.startsWith("AgentX: serving")).length).toBe(2);
  });
});
