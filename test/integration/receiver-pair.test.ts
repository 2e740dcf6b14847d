// Two receivers fed by the same fleet agree: `edge-agent receive` twice (as the packaged unit
// starts it) on loopback, one `edge-agent run` node with both as notifications targets, and
// simulated nodes that send each notification to both, as a node with two targets does. The
// two file_sd files are the same and so are the per-node fleet series (arrival times aside),
// also after one receiver was stopped and restarted while the node kept reporting: it catches
// up from its saved state and the node's outbox.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import type { ObjectValues } from "../../agent/snmp/state-objects";
import { startNodeExporter } from "../helpers/node-exporter";
import { freeTcpPort, freeUdpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import type { Daemon } from "../helpers/process";
import { defaultScenario, startFakeTailscaled } from "../helpers/tailscaled";
import { startUnit } from "../helpers/unit-exec";
import { edgeValues, metricsText, snmptrap, snmptrapVarbindArgs, tree } from "./receiver-support";

const COMMUNITY = "edgetest";
const stops: Array<() => Promise<void>> = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

interface Receiver {
  port: number;
  metricsUrl: string;
  fileSd: string;
  start: () => Promise<Daemon>;
}

async function receiver(dir: string, name: string): Promise<Receiver> {
  const port = await freeUdpPort();
  const metricsPort = await freeTcpPort();
  const fileSd = join(dir, name, "edge-agent.yml");
  mkdirSync(join(dir, name));
  const configFile = join(dir, `${name}.yaml`);
  const config = {
    tailscale: { socket: join(dir, "no-tailscaled.sock") },
    // Every series of every node (nodeSeries all): the pair must agree on all of them, not only the problems.
    receiver: { listen: [`udp:127.0.0.1:${port}`], communities: [COMMUNITY], metrics: `127.0.0.1:${metricsPort}`, fileSd, state: join(dir, name, "fleet.json"), nodeSeries: "all" },
  };
  writeFileSync(configFile, JSON.stringify(config));
  const start = async () => {
    const child = startUnit(["receive", "--config", configFile], { unit: "edge-agent-receiver.service" });
    stops.push(() => child.stop());
    await waitFor(`receiver ${name} started`, () => child.output().includes('"receiver started"'), 20_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${child.output()}`);
    });
    return child;
  };
  return { port, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, fileSd, start };
}

/** The per-node fleet series, sorted, without the ones that record arrival times. */
function fleetSeries(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("edge_fleet_node") && !/^edge_fleet_node_(last_seen_timestamp_seconds|heartbeat_interval_seconds)\{/.test(l))
    .sort();
}

const read = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

describeWith({ binaries: ["snmptrap", "prometheus-node-exporter"] }, "two receivers fed by the same fleet", () => {
  it("agree on file_sd and the fleet's series, also after one restarts while the fleet reports", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ea-receiver-pair-"));
    dirs.push(dir);
    const a = await receiver(dir, "a");
    const b = await receiver(dir, "b");
    await a.start();
    let bChild = await b.start();

    // A real node: edge-agent run with both receivers as targets, heartbeats every second.
    const tailscaled = await startFakeTailscaled({ ...defaultScenario(), selfHostName: "pair-node", selfIps: ["127.0.0.1"] });
    stops.push(() => tailscaled.stop());
    const nodeExporter = await startNodeExporter();
    stops.push(() => nodeExporter.stop());
    const nodeConfig = join(dir, "node.yaml");
    writeFileSync(
      nodeConfig,
      JSON.stringify({
        tailscale: { socket: tailscaled.socket },
        probes: { timeout: "2s", nodeExporter: { url: nodeExporter.url }, snmpd: { port: 9 } },
        notifications: { targets: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], community: COMMUNITY, inform: true, timeout: "300ms", retries: 0, outbox: join(dir, "outbox") },
        textfile: { directory: dir },
        agentx: { enabled: false },
        run: { interval: "2s", heartbeat: "1s" },
      }),
    );
    const node = startUnit(["run", "--config", nodeConfig]);
    stops.push(() => node.stop());

    // Simulated nodes: each notification to both receivers, as a node with two targets sends it.
    const variants: ObjectValues[] = [{}, { edgeAgentNodeExporterUp: false }, { edgeAgentScraperPath: "relay" }, { edgeAgentFirewallInboundIpv6: "drop" }, { edgeAgentTailnetTags: "tag:monitor,tag:edge" }];
    for (let i = 0; i < 10; i++) {
      const values = edgeValues(`sim${i}`, 1, variants[i % variants.length]);
      for (const r of [a, b]) {
        const sent = await snmptrap(["-v2c", "-Ci", "-t", "1", "-r", "2", "-c", COMMUNITY, `127.0.0.1:${r.port}`, "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(values)]);
        expect(sent.code, sent.stderr).toBe(0);
      }
    }

    // Agreement, modulo timing: the node keeps reporting, so poll until both show the same.
    const agree = async () => {
      const [ma, mb] = await Promise.all([metricsText(a.metricsUrl), metricsText(b.metricsUrl)]);
      const [sa, sb] = [fleetSeries(ma), fleetSeries(mb)];
      const sd = read(a.fileSd);
      return sa.length > 0 && JSON.stringify(sa) === JSON.stringify(sb) && sd !== "" && sd === read(b.fileSd) && sd.includes("pair-node") ? { series: sa, fileSd: sd } : null;
    };
    const first = await waitFor("both receivers to show the same fleet", agree, 30_000, 100).catch(async (e) => {
      throw new Error(`${(e as Error).message}\nA:\n${fleetSeries(await metricsText(a.metricsUrl)).join("\n")}\nB:\n${fleetSeries(await metricsText(b.metricsUrl)).join("\n")}\nnode:\n${node.output().slice(-2000)}`);
    });
    // Eleven nodes, the eight with node-exporter up in file_sd (two simulated ones report it down).
    expect(first.series.find((l) => l.startsWith("edge_fleet_nodes{") && l.includes('stale="false"'))).toMatch(/ 11$/);
    expect(first.fileSd.match(/targets:/g)).toHaveLength(9);

    // One receiver stops (SIGTERM saves its fleet) while the node goes on; then it comes back.
    await bChild.stop();
    const lastBeforeStop = Number(/edge_fleet_node_last_sequence\{node="pair-node[^"]*"\} (\d+)/.exec(await metricsText(a.metricsUrl))?.[1]);
    await waitFor("the node to send three more while B is down", async () => Number(/edge_fleet_node_last_sequence\{node="pair-node[^"]*"\} (\d+)/.exec(await metricsText(a.metricsUrl))?.[1]) >= lastBeforeStop + 3, 15_000, 100);
    bChild = await b.start();
    // The simulated nodes never send again: B has them from its saved state, the node's
    // notifications from the node's outbox.
    const again = await waitFor("the restarted receiver to agree again", agree, 40_000, 100).catch(async (e) => {
      throw new Error(`${(e as Error).message}\nA:\n${fleetSeries(await metricsText(a.metricsUrl)).join("\n")}\nB:\n${fleetSeries(await metricsText(b.metricsUrl)).join("\n")}`);
    });
    expect(again.fileSd.match(/targets:/g)).toHaveLength(9);
    const sequence = (series: string[]) => Number(/ (\d+)$/.exec(series.find((l) => l.startsWith('edge_fleet_node_last_sequence{node="pair-node'))!)![1]);
    expect(sequence(again.series)).toBeGreaterThanOrEqual(lastBeforeStop + 3);
  }, 150_000);
});
