// The daemon end to end, in a network namespace whose global IPv6 address the test removes:
// within 2 s a notification datagram arrives at a real receiver, the textfile changes and the
// AgentX object read through the real snmpd changes. Then `edge-agent run` as a process inside
// the namespace: the same change reaches the textfile and AgentX, SIGHUP reloads (a bad config is
// logged and the old one kept), logs are one line per change, and SIGTERM exits 0 within 5 s.
//
// Until the notifier (agent/snmp/notifier.ts) is on this branch, the in-process daemon gets a
// small sink defined here that sends each event as a real SNMPv2c trap datagram.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import snmp from "net-snmp";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromObject, type Config } from "../../agent/config";
import { Daemon, type EventSink } from "../../agent/daemon";
import type { StateEvent } from "../../agent/diff";
import { collectNodeState } from "../../agent/probes/collect";
import { oidTree } from "../../agent/snmp/oid-tree";
import { notificationObjects, stateObjects, type ObjectValues } from "../../agent/snmp/state-objects";
import { fromVarbinds, toVarbinds } from "../../agent/snmp/varbinds";
import type { NodeState } from "../../agent/state";
import { TEXTFILE_NAME } from "../../agent/textfile";
import { createNetns, type Netns } from "../helpers/netns";
import { freeTcpPort, freeUdpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { startDaemon, type Daemon as ChildDaemon } from "../helpers/process";
import { netSnmpEnv, startSnmpd, type Snmpd } from "../helpers/snmpd";
import { defaultScenario, startFakeTailscaled, type FakeTailscaled } from "../helpers/tailscaled";

const run = promisify(execFile);
const tree = oidTree();
const COMMUNITY = "edgetest";
const ADDRESS = "2001:db8:100:1::10";
const PREFIX = "2001:db8:100:1::/64";
const REPO = resolve(__dirname, "../..");

/** Sends each event as one SNMPv2c trap with the MIB's varbinds: real datagrams, no outbox. */
class TrapSink implements EventSink {
  private readonly session: ReturnType<typeof snmp.createSession>;
  private sequence = 0;
  private counts = { sent: 0, acknowledged: 0, queued: 0, dropped: 0, failed: 0 };

  constructor(config: Config) {
    const [host, port] = config.notifications.target.split(":");
    this.session = snmp.createSession(host, config.notifications.community, { version: snmp.Version2c, trapPort: Number(port) });
    this.session.on("error", () => undefined);
  }
  async start(): Promise<void> {}
  notify(event: StateEvent, state: NodeState): void {
    this.counts.queued++;
    const values = notificationObjects(stateObjects(state), { sequence: ++this.sequence, at: new Date().toISOString(), summary: event.summary, service: event.service });
    this.session.trap(tree.notificationOid(event.kind), toVarbinds(tree, values), (error: Error | null) => {
      this.counts.queued--;
      if (error) this.counts.failed++;
      else this.counts.sent++;
    });
  }
  async flush(timeoutMs: number): Promise<void> {
    await waitFor("the traps to go out", () => this.counts.queued === 0, timeoutMs, 10).catch(() => undefined);
  }
  async close(): Promise<void> {
    this.session.close();
  }
  stats() {
    return { ...this.counts };
  }
}

interface Received {
  at: number;
  kind: string;
  values: ObjectValues;
}

/** A real SNMP receiver (net-snmp's) on loopback, recording which notification came when. */
async function startReceiver(): Promise<{ port: number; received: Received[]; close: () => void }> {
  const port = await freeUdpPort();
  const received: Received[] = [];
  const byOid = new Map(["agentStarted", "heartbeat", "addressChanged", "tailnetChanged", "pathChanged", "serviceDown", "serviceUp", "firewallChanged", "test"].map((k) => [tree.notificationOid(k as StateEvent["kind"]), k]));
  const receiver = snmp.createReceiver({ port, address: "127.0.0.1", transport: "udp4" }, (error: unknown, notification: any) => {
    if (error || !notification) return;
    const varbinds = notification.pdu.varbinds as { oid: string; value: unknown }[];
    const trapOid = String(varbinds.find((v) => v.oid === "1.3.6.1.6.3.1.1.4.1.0")?.value ?? "");
    received.push({ at: Date.now(), kind: byOid.get(trapOid) ?? trapOid, values: fromVarbinds(tree, varbinds as any) });
  });
  receiver.getAuthorizer().addCommunity(COMMUNITY);
  return { port, received, close: () => receiver.close() };
}

function textfileSample(dir: string, series: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, TEXTFILE_NAME), "utf8");
  } catch {
    return undefined;
  }
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const prefixSeries = `edge_agent_ipv6_prefix_info{prefix="${PREFIX}",interface="ea0",in_allocation="true",primary="true"}`;
const primaryOid = `${tree.objectOid("edgeAgentPrimaryPrefix")}.0`;

/** A namespace with one veth pair and the host's global /64 address on ea0. */
function namespaceWithAddress(): Netns {
  const ns = createNetns("eadm");
  ns.exec("ip", ["link", "add", "ea0", "type", "veth", "peer", "name", "ea1"]);
  ns.exec("ip", ["link", "set", "ea0", "up"]);
  ns.exec("ip", ["link", "set", "ea1", "up"]);
  ns.exec("ip", ["-6", "addr", "add", `${ADDRESS}/64`, "dev", "ea0", "nodad"]);
  return ns;
}

describeWith({ root: true, binaries: ["snmpd", "snmpget", "ip"] }, "edge-agent daemon", () => {
  describe("in process, watching a namespace's addresses", () => {
    let ns: Netns;
    let tailscaled: FakeTailscaled;
    let snmpd: Snmpd;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let daemon: Daemon;
    let textDir: string;
    const extraDirs: string[] = [];

    async function agentxValue(oid: string): Promise<string | undefined> {
      const { stdout } = await run("snmpget", ["-v2c", "-c", COMMUNITY, "-On", "-Oqv", "-t", "1", "-r", "0", `127.0.0.1:${snmpd.port}`, oid], { env: netSnmpEnv() });
      return stdout.trim().replace(/^"(.*)"$/, "$1");
    }

    beforeAll(async () => {
      ns = namespaceWithAddress();
      // Tailscale IP on loopback: the services' tailnet checks answer (or refuse) at once.
    tailscaled = await startFakeTailscaled({ ...defaultScenario(), selfIps: ["127.0.0.1"] });
      const agentxPort = await freeTcpPort();
      snmpd = await startSnmpd({ extra: ["master agentx", `agentXSocket tcp:127.0.0.1:${agentxPort}`] });
      receiver = await startReceiver();
      textDir = mkdtempSync(join(tmpdir(), "ea-daemon-"));
      const ifInet6Path = `/proc/${ns.anchorPid}/net/if_inet6`;
      // createNetns returns before its anchor process has entered the namespace.
      await waitFor("the anchor to enter the namespace", () => readFileSync(ifInet6Path, "utf8").includes("20010db8010000010000000000000010"), 5000, 20);
      const config = configFromObject(
        {
          scraper: "scraper",
          tailscale: { socket: tailscaled.socket },
          ipv6: { allocations: ["2001:db8:100::/56"] },
          // The first cycle shares the CPU with loading every module; 500 ms can run out.
          probes: { timeout: "3s", nodeExporter: { url: "http://127.0.0.1:9/metrics" }, snmpd: { port: snmpd.port, community: COMMUNITY } },
          notifications: { target: `127.0.0.1:${receiver.port}`, community: COMMUNITY, inform: false },
          textfile: { directory: textDir },
          agentx: { master: `tcp:127.0.0.1:${agentxPort}` },
          run: { interval: "1m", heartbeat: "1h" },
        },
        null,
      );
      const logger = pino({ level: "warn" });
      daemon = new Daemon(config, logger, {
        createSink: (c) => new TrapSink(c),
        ifInet6Path,
        // No disco ping: the namespace has no tailnet; the fake LocalAPI answers status.
        collect: (c) => collectNodeState(c, { ping: false, ifInet6Path }),
      });
      await daemon.start();
      await waitFor("agentStarted at the receiver", () => receiver.received.some((r) => r.kind === "agentStarted"), 5000);
      await waitFor("AgentX to serve the primary prefix", async () => (await agentxValue(primaryOid)) === PREFIX, 10_000, 200);
    });

    afterAll(async () => {
      await daemon?.stop(2000);
      receiver?.close();
      await snmpd?.stop();
      await tailscaled?.stop();
      ns?.remove();
      if (textDir) rmSync(textDir, { recursive: true, force: true });
      for (const dir of extraDirs) rmSync(dir, { recursive: true, force: true });
    });

    it("starts with the namespace's /64 in every output", () => {
      const started = receiver.received.find((r) => r.kind === "agentStarted")!;
      expect(started.values.edgeAgentPrimaryPrefix).toBe(PREFIX);
      expect(started.values.edgeAgentPrefixInAllocation).toBe("inside");
      expect(textfileSample(textDir, prefixSeries)).toBe(1);
      expect(textfileSample(textDir, "edge_agent_ipv6_global_prefixes")).toBe(1);
    });

    it("removing the global address reaches the receiver, the textfile and AgentX within 2 s", async () => {
      const before = receiver.received.length;
      const t0 = Date.now();
      ns.exec("ip", ["-6", "addr", "del", `${ADDRESS}/64`, "dev", "ea0"]);
      // The promise is 2 s from the change to all three outputs.
      const notified = await waitFor("an addressChanged notification", () => receiver.received.slice(before).find((r) => r.kind === "addressChanged"), 2000, 20);
      await waitFor("the textfile to drop the /64", () => textfileSample(textDir, "edge_agent_ipv6_global_prefixes") === 0, Math.max(1, 2000 - (Date.now() - t0)), 20);
      await waitFor("AgentX to drop the /64", async () => (await agentxValue(primaryOid)) === "", Math.max(1, 2000 - (Date.now() - t0)), 50);
      expect(notified.values.edgeAgentPrimaryPrefix).toBe("");
      expect(notified.values.edgeAgentEventSummary).toContain(`was: primary /64 ${PREFIX}`);
      expect(textfileSample(textDir, prefixSeries)).toBeUndefined();
      // Only the address probe ran for it: no full cycle was needed.
      expect(daemon.cycles.addresses).toBeGreaterThanOrEqual(1);
    });

    it("adding it back is one more change, and a tailnet change is noticed without waiting for the interval", async () => {
      const before = receiver.received.length;
      ns.exec("ip", ["-6", "addr", "add", `${ADDRESS}/64`, "dev", "ea0", "nodad"]);
      await waitFor("the address to come back", () => receiver.received.slice(before).find((r) => r.kind === "addressChanged" && r.values.edgeAgentPrimaryPrefix === PREFIX), 2000, 20);
      tailscaled.scenario.selfTags = [];
      const tailnet = await waitFor("a tailnetChanged notification", () => receiver.received.slice(before).find((r) => r.kind === "tailnetChanged"), 8000, 50);
      expect(tailnet.values.edgeAgentTailnetTags).toBe("");
      await waitFor("the textfile to count the missing tag", () => textfileSample(textDir, "edge_agent_tailnet_missing_tags") === 1, 2000, 20);
      expect(receiver.received.slice(before).filter((r) => r.kind === "addressChanged")).toHaveLength(1);
    });

    it("keeps running while tailscaled restarts, and reports both changes", async () => {
      const before = receiver.received.length;
      const socket = tailscaled.socket;
      const scenario = tailscaled.scenario;
      await tailscaled.stop();
      const gone = await waitFor("tailscaled unavailable", () => receiver.received.slice(before).find((r) => r.kind === "tailnetChanged" && r.values.edgeAgentTailnetState === "unavailable"), 10_000, 50);
      expect(gone.values.edgeAgentEventSummary).toContain("tailscaled unavailable");
      await waitFor("the textfile to say so", () => textfileSample(textDir, 'edge_agent_probe_up{probe="tailnet"}') === 0, 2000, 20);
      // The helper removed its directory on stop; the daemon keeps the configured path.
      mkdirSync(dirname(socket), { recursive: true });
      extraDirs.push(dirname(socket));
      tailscaled = await startFakeTailscaled(scenario, socket);
      await waitFor("tailscaled back", () => receiver.received.slice(before).find((r) => r.kind === "tailnetChanged" && r.values.edgeAgentTailnetState === "Running"), 10_000, 50);
      expect(textfileSample(textDir, "edge_agent_ipv6_global_prefixes")).toBe(1);
    });
  });

  describe("`edge-agent run` inside the namespace", () => {
    let ns: Netns;
    let tailscaled: FakeTailscaled;
    let snmpdChild: ChildDaemon;
    let snmpPort: number;
    let agent: ChildDaemon;
    let work: string;
    let textDir: string;
    let configFile: string;
    let baseConfig: Record<string, unknown>;

    async function agentxValue(oid: string): Promise<string> {
      const { stdout } = await run("ip", ["netns", "exec", ns.name, "snmpget", "-v2c", "-c", COMMUNITY, "-On", "-Oqv", "-t", "1", "-r", "0", `127.0.0.1:${snmpPort}`, oid], { env: netSnmpEnv() });
      return stdout.trim().replace(/^"(.*)"$/, "$1");
    }

    function logLines(): { level: number; msg: string; event?: string }[] {
      return agent
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l));
    }

    beforeAll(async () => {
      ns = namespaceWithAddress();
      // Tailscale IP on loopback: the services' tailnet checks answer (or refuse) at once.
    tailscaled = await startFakeTailscaled({ ...defaultScenario(), selfIps: ["127.0.0.1"] });
      work = mkdtempSync(join(tmpdir(), "ea-run-"));
      textDir = join(work, "textfile");
      rmSync(textDir, { force: true, recursive: true });
      mkdirSync(textDir);
      snmpPort = 16100;
      const agentxPort = 17050;
      writeFileSync(join(work, "snmpd.conf"), [`rocommunity ${COMMUNITY} 127.0.0.1`, "master agentx", `agentXSocket tcp:127.0.0.1:${agentxPort}`, ""].join("\n"));
      // Ports inside a fresh namespace are all free.
      snmpdChild = startDaemon("ip", ["netns", "exec", ns.name, "snmpd", "-f", "-C", "-c", join(work, "snmpd.conf"), "-Lo", "-p", join(work, "snmpd.pid"), `udp:127.0.0.1:${snmpPort}`], {
        env: { ...netSnmpEnv(), SNMP_PERSISTENT_DIR: join(work, "persist") },
      });
      await waitFor("snmpd in the namespace", async () => (await agentxValue("1.3.6.1.2.1.1.3.0")) !== "", 10_000, 200);
      baseConfig = {
        tailscale: { socket: tailscaled.socket },
        ipv6: { allocations: ["2001:db8:100::/56"] },
        probes: { timeout: "3s", nodeExporter: { url: "http://127.0.0.1:9/metrics" }, snmpd: { port: snmpPort, community: COMMUNITY } },
        notifications: { target: "127.0.0.1:16200", community: "secret-community-42", inform: false, outbox: join(work, "outbox") },
        textfile: { directory: textDir },
        agentx: { master: `tcp:127.0.0.1:${agentxPort}` },
        run: { interval: "1s", heartbeat: "1h" },
      };
      configFile = join(work, "config.yaml");
      writeFileSync(configFile, JSON.stringify(baseConfig));
      agent = startDaemon("ip", ["netns", "exec", ns.name, process.execPath, join(REPO, "bin/edge-agent.js"), "run", "--config", configFile], { cwd: REPO });
      await waitFor("the daemon's first textfile", () => textfileSample(textDir, prefixSeries) === 1, 20_000, 100).catch((error) => {
        throw new Error(`${(error as Error).message}\n${agent.output()}`);
      });
      await waitFor("AgentX in the namespace", async () => (await agentxValue(primaryOid)) === PREFIX, 10_000, 200);
    });

    afterAll(async () => {
      await agent?.stop();
      await snmpdChild?.stop();
      await tailscaled?.stop();
      ns?.remove();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it("removing the global address changes the textfile and AgentX within 2 s", async () => {
      const t0 = Date.now();
      ns.exec("ip", ["-6", "addr", "del", `${ADDRESS}/64`, "dev", "ea0"]);
      await waitFor("the textfile to drop the /64", () => textfileSample(textDir, "edge_agent_ipv6_global_prefixes") === 0, 2000, 20);
      await waitFor("AgentX to drop the /64", async () => (await agentxValue(primaryOid)) === "", Math.max(1, 2000 - (Date.now() - t0)), 50);
      await waitFor("the change in the log", () => logLines().some((l) => l.event === "addressChanged"), 1000);
    });

    it("logs one line per change, not one per cycle, and never the community", async () => {
      const cycles = () => textfileSample(textDir, "edge_agent_last_cycle_timestamp_seconds") ?? 0;
      const first = cycles();
      const linesBefore = logLines().length;
      await waitFor("three more cycles", () => cycles() >= first + 3, 6000, 100);
      expect(logLines().length).toBe(linesBefore);
      expect(agent.output()).not.toContain("secret-community-42");
      expect(logLines().filter((l) => l.event === "agentStarted")).toHaveLength(1);
    });

    it("SIGHUP with a bad config logs it and keeps running on the old one", async () => {
      writeFileSync(configFile, "textfile: { directory: [\n");
      agent.child.kill("SIGHUP");
      await waitFor("the reload error in the log", () => logLines().some((l) => l.level === 50 && l.msg.includes("config reload failed, keeping the running config")), 3000);
      const last = textfileSample(textDir, "edge_agent_last_cycle_timestamp_seconds") ?? 0;
      await waitFor("cycles to go on", () => (textfileSample(textDir, "edge_agent_last_cycle_timestamp_seconds") ?? 0) > last, 3000, 100);
      expect(agent.child.exitCode).toBeNull();
    });

    it("SIGHUP with a good config applies it", async () => {
      const newDir = join(work, "textfile2");
      mkdirSync(newDir);
      writeFileSync(configFile, JSON.stringify({ ...baseConfig, textfile: { directory: newDir } }));
      agent.child.kill("SIGHUP");
      await waitFor("the textfile in the new directory", () => textfileSample(newDir, "edge_agent_ipv6_global_prefixes") === 0, 5000, 100);
      expect(logLines().some((l) => l.msg.startsWith("config reloaded"))).toBe(true);
    });

    it("SIGTERM exits 0 within 5 s", async () => {
      const exited = new Promise<number | null>((r) => agent.child.once("exit", (code) => r(code)));
      const t0 = Date.now();
      agent.child.kill("SIGTERM");
      const code = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 5000))]);
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
    });
  });
});

describe("`edge-agent run` with a bad config", () => {
  it("exits 2 naming the file and the key", async () => {
    const work = mkdtempSync(join(tmpdir(), "ea-run-bad-"));
    try {
      const file = join(work, "config.yaml");
      writeFileSync(file, "run: { interval: soon }\n");
      const result = await run(process.execPath, [join(REPO, "bin/edge-agent.js"), "run", "--config", file], { cwd: REPO }).then(
        () => ({ code: 0, stderr: "" }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${file}: run.interval: expected a duration`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
