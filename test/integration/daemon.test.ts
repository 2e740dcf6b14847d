// The daemon end to end (in process: under a re-rooted mib.baseOid), in a network namespace
// whose global IPv6 address the test removes:
// within 2 s a notification datagram arrives at a real receiver, the textfile changes and the
// AgentX object read through the real snmpd changes. Then `edge-agent run` as a process inside
// the namespace with snmptrapd beside it: agentStarted at start, the same change as an
// edgeAgentAddressChanged inform and in the textfile and AgentX within 2 s, SIGHUP reloads (a bad
// config is logged and the old one kept), logs are one line per change, SIGTERM with the
// receiver down exits 0 within 5 s keeping the notification in the outbox, and the next start
// delivers it.
// The in-process part runs the sources to re-root the MIB and read state between cycles; the
// `edge-agent run` part starts the bundle with edge-agent.service's command line (startUnit).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { readdirSync } from "node:fs";
import snmp from "net-snmp";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromObject } from "../../agent/config";
import { Daemon } from "../../agent/daemon/daemon";
import { EVENT_KINDS } from "../../agent/diff";
import { parseNftJson } from "../../agent/firewall/nft-json";
import { collectNodeState } from "../../agent/probes/collect";
import { oidTree } from "../../agent/snmp/oid-tree";
import { Notifier } from "../../agent/snmp/notifier";
import type { ObjectValues } from "../../agent/snmp/state-objects";
import { fromVarbinds } from "../../agent/snmp/varbinds";
import { TEXTFILE_NAME } from "../../agent/daemon/textfile";
import { BUNDLE } from "../helpers/bundle";
import { createNetns, type Netns } from "../helpers/netns";
import { startUnit } from "../helpers/unit-exec";
import { freeTcpPort, freeUdpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { startDaemon, type Daemon as ChildDaemon } from "../helpers/process";
import { netSnmpEnv, startSnmpd, type Snmpd } from "../helpers/snmpd";
import { startSnmptrapd, type Snmptrapd } from "../helpers/snmptrapd";
import { defaultScenario, startFakeTailscaled, type FakeTailscaled } from "../helpers/tailscaled";

const run = promisify(execFile);
const tree = oidTree();
/** The in-process daemon runs under an operator's own root: notifications and AgentX must follow it. */
const REROOT = "1.3.6.1.4.1.99999.7";
const rerooted = oidTree(REROOT);
const COMMUNITY = "edgetest";
const ADDRESS = "2001:db8:100:1::10";
const PREFIX = "2001:db8:100:1::/64";
const REPO = resolve(__dirname, "../..");
/** The agent's v2c community in the process test: it must never reach a log line. */
const SECRET = "secret-community-42";

interface Received {
  at: number;
  kind: string;
  values: ObjectValues;
}

/** A real SNMP receiver (net-snmp's) on loopback, recording which notification came when. */
async function startReceiver(): Promise<{ port: number; received: Received[]; close: () => void }> {
  const port = await freeUdpPort();
  const received: Received[] = [];
  const byOid = new Map(EVENT_KINDS.map((k) => [rerooted.notificationOid(k), k]));
  const receiver = snmp.createReceiver({ port, address: "127.0.0.1", transport: "udp4" }, (error: unknown, notification: any) => {
    if (error || !notification) return;
    const varbinds = notification.pdu.varbinds as { oid: string; value: unknown }[];
    const trapOid = String(varbinds.find((v) => v.oid === "1.3.6.1.6.3.1.1.4.1.0")?.value ?? "");
    received.push({ at: Date.now(), kind: byOid.get(trapOid) ?? trapOid, values: fromVarbinds(rerooted, varbinds as any) });
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
const rerootedPrimaryOid = `${rerooted.objectOid("edgeAgentPrimaryPrefix")}.0`;

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
      const outboxDir = mkdtempSync(join(tmpdir(), "ea-daemon-outbox-"));
      extraDirs.push(outboxDir);
      const ifInet6Path = `/proc/${ns.anchorPid}/net/if_inet6`;
      const config = configFromObject(
        {
          scraper: "scraper",
          tailscale: { socket: tailscaled.socket },
          ipv6: { allocations: ["2001:db8:100::/56"] },
          // A router's IPv4 prefix: its forward-ipv4 verdict reaches every output.
          firewall: { forwardPrefixes: ["10.20.0.0/16"] },
          // The first cycle shares the CPU with loading every module; 500 ms can run out.
          probes: { timeout: "3s", nodeExporter: { url: "http://127.0.0.1:9/metrics" }, snmpd: { port: snmpd.port, community: COMMUNITY } },
          notifications: { target: `127.0.0.1:${receiver.port}`, community: COMMUNITY, inform: false, outbox: outboxDir },
          textfile: { directory: textDir },
          agentx: { master: `tcp:127.0.0.1:${agentxPort}` },
          run: { interval: "1m", heartbeat: "1h" },
          mib: { baseOid: REROOT },
        },
        null,
      );
      const logger = pino({ level: "warn" });
      daemon = new Daemon(config, logger, {
        createSink: (c) => new Notifier(c, logger),
        ifInet6Path,
        // No disco ping: the namespace has no tailnet; the fake LocalAPI answers status.
        collect: (c, extras) => collectNodeState(c, { ping: false, ifInet6Path, readRuleset: extras.readRuleset }),
        // The namespace's firewall, watched and read as the daemon does on a host.
        rulesetMonitor: ["ip", "netns", "exec", ns.name, "nft", "monitor"],
        readRuleset: async () => ({ ruleset: parseNftJson(ns.exec("nft", ["-j", "list", "ruleset"])), backend: "nftables" }),
      });
      await daemon.start();
      await waitFor("agentStarted at the receiver", () => receiver.received.some((r) => r.kind === "agentStarted"), 5000);
      await waitFor("AgentX to serve the primary prefix under mib.baseOid", async () => (await agentxValue(rerootedPrimaryOid)) === PREFIX, 10_000, 200);
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
      await waitFor("AgentX to drop the /64", async () => (await agentxValue(rerootedPrimaryOid)) === "", Math.max(1, 2000 - (Date.now() - t0)), 50);
      expect(notified.values.edgeAgentPrimaryPrefix).toBe("");
      expect(notified.values.edgeAgentEventSummary).toContain(`was: primary /64 ${PREFIX}`);
      expect(textfileSample(textDir, prefixSeries)).toBeUndefined();
      // Only the address probe ran for it: no full cycle was needed.
      expect(daemon.cycles.local).toBeGreaterThanOrEqual(1);
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

    it("reads an unchanged ruleset once, and judges a change to it within 2 s without waiting for the interval", async () => {
      // Once a cycle has reused a read, the monitor is trusted and the cache in use.
      await waitFor("a cycle that reuses the last ruleset read", () => (daemon.requestCycle("full"), daemon.rulesetReads.cached >= 1 || null), 5000, 600);
      await daemon.settled();
      const reads = daemon.rulesetReads.read;
      for (let i = 0; i < 5; i++) {
        daemon.requestCycle("full");
        await daemon.settled();
      }
      expect(daemon.rulesetReads.read).toBe(reads);
      const inbound = 'edge_agent_firewall_accepts{check="inbound-ipv6"}';
      expect(textfileSample(textDir, inbound)).toBe(1);

      const before = receiver.received.length;
      const localBefore = daemon.cycles.local;
      const t0 = Date.now();
      ns.exec("nft", ["-f", "-"], "table inet guard {\n  chain input {\n    type filter hook input priority filter; policy drop;\n  }\n}\n");
      const changed = await waitFor("a firewallChanged notification", () => receiver.received.slice(before).find((r) => r.kind === "firewallChanged"), 2000, 20);
      expect(changed.values.edgeAgentEventSummary).toMatch(/inbound-ipv6 drop/);
      // The notification leaves before the cycle writes the textfile: same cycle, same 2 s.
      await waitFor("the textfile to say drop", () => textfileSample(textDir, inbound) === 0 || null, Math.max(1, 2000 - (Date.now() - t0)), 20);
      // A local cycle judged it: no full cycle, no disco ping, one more read.
      expect(daemon.cycles.local).toBeGreaterThan(localBefore);
      expect(daemon.rulesetReads.read).toBe(reads + 1);

      ns.exec("nft", ["delete", "table", "inet", "guard"]);
      await waitFor("the firewall to accept again", () => textfileSample(textDir, inbound) === 1 || null, 2000, 20);
    });

    it("a forward chain dropping tailscaled's IPv4 reaches the receiver, the textfile and AgentX", async () => {
      const forward = 'edge_agent_firewall_accepts{check="forward-ipv4"}';
      const forwardOid = `${rerooted.objectOid("edgeAgentFirewallForwardIpv4")}.0`;
      await waitFor("the forward-ipv4 verdict accept in the textfile", () => textfileSample(textDir, forward) === 1 || null, 5000, 20);
      const before = receiver.received.length;
      ns.exec("nft", ["-f", "-"], "table inet router {\n  chain forward {\n    type filter hook forward priority filter; policy drop;\n  }\n}\n");
      try {
        const changed = await waitFor("a firewallChanged notification", () => receiver.received.slice(before).find((r) => r.kind === "firewallChanged"), 2000, 20);
        expect(changed.values.edgeAgentFirewallForwardIpv4).toBe("drop");
        expect(changed.values.edgeAgentFirewallForwardIpv6).toBe("unknown");
        await waitFor("the textfile to say drop", () => textfileSample(textDir, forward) === 0 || null, 2000, 20);
        // drop(2), as EDGE-AGENT-MIB numbers the verdicts.
        await waitFor("AgentX to serve drop", async () => (await agentxValue(forwardOid)) === "2" || null, 2000, 50);
      } finally {
        ns.exec("nft", ["delete", "table", "inet", "router"]);
      }
      await waitFor("the forward chain to accept again", () => textfileSample(textDir, forward) === 1 || null, 2000, 20);
    });

    it("keeps running while tailscaled restarts, and reports both changes", async () => {
      const before = receiver.received.length;
      const socket = tailscaled.socket;
      const scenario = tailscaled.scenario;
      await tailscaled.stop();
      const gone = await waitFor("tailscaled unavailable", () => receiver.received.slice(before).find((r) => r.kind === "tailnetChanged" && r.values.edgeAgentTailnetState === "unavailable"), 10_000, 50);
      expect(gone.values.edgeAgentEventSummary).toContain("tailscaled unavailable");
      // The tailnet policy's verdicts go unknown with it, in their own notification's objects.
      const unjudged = await waitFor("policyChanged to unknown", () => receiver.received.slice(before).find((r) => r.kind === "policyChanged" && r.values.edgeAgentPolicyScrapeNodeExporter === "unknown"), 10_000, 50);
      expect(unjudged.values.edgeAgentEventSummary).toContain("tailnet policy verdicts unavailable");
      expect(unjudged.values.edgeAgentPolicyPollSnmpd).toBe("unknown");
      await waitFor("the textfile to say so", () => textfileSample(textDir, 'edge_agent_probe_up{probe="tailnet"}') === 0, 2000, 20);
      // The helper removed its directory on stop; the daemon keeps the configured path.
      mkdirSync(dirname(socket), { recursive: true });
      extraDirs.push(dirname(socket));
      tailscaled = await startFakeTailscaled(scenario, socket);
      await waitFor("tailscaled back", () => receiver.received.slice(before).find((r) => r.kind === "tailnetChanged" && r.values.edgeAgentTailnetState === "Running"), 10_000, 50);
      await waitFor("the seed's verdicts back", () => receiver.received.slice(before).find((r) => r.kind === "policyChanged" && r.values.edgeAgentPolicyScrapeNodeExporter === "accept" && r.values.edgeAgentPolicyPollSnmpd === "accept"), 10_000, 50);
      expect(textfileSample(textDir, "edge_agent_ipv6_global_prefixes")).toBe(1);
    });
  });

  describe("`edge-agent run` inside the namespace", () => {
    let ns: Netns;
    let tailscaled: FakeTailscaled;
    let snmpdChild: ChildDaemon;
    let snmpPort: number;
    let agent: ChildDaemon;
    let outboxCountAtStop = 1;
    let trapd: Snmptrapd;
    let work: string;
    let textDir: string;
    let configFile: string;
    let baseConfig: Record<string, unknown>;

    async function agentxValue(oid: string): Promise<string> {
      const { stdout } = await run("ip", ["netns", "exec", ns.name, "snmpget", "-v2c", "-c", COMMUNITY, "-On", "-Oqv", "-t", "1", "-r", "0", `127.0.0.1:${snmpPort}`, oid], { env: netSnmpEnv() });
      return stdout.trim().replace(/^"(.*)"$/, "$1");
    }

    const startAgent = () => startUnit(["run", "--config", configFile], { netns: ns.name });
    const notified = (name: string) => trapd.received().filter((n) => n.name === `EDGE-AGENT-MIB::${name}`);
    const outboxEntries = () =>
      readdirSync(join(work, "outbox"))
        .filter((f) => /^n-\d+\.json$/.test(f))
        .map((f) => JSON.parse(readFileSync(join(work, "outbox", f), "utf8")) as { sequence: number; event: { kind: string; summary: string } });

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
      trapd = await startSnmptrapd({ netns: ns.name, community: SECRET });
      baseConfig = {
        tailscale: { socket: tailscaled.socket },
        ipv6: { allocations: ["2001:db8:100::/56"] },
        probes: { timeout: "3s", nodeExporter: { url: "http://127.0.0.1:9/metrics" }, snmpd: { port: snmpPort, community: COMMUNITY } },
        // Informs, so an unanswered one stays in the outbox; a short timeout keeps the test fast.
        notifications: { target: `127.0.0.1:${trapd.port}`, community: SECRET, inform: true, timeout: "500ms", retries: 0, outbox: join(work, "outbox") },
        textfile: { directory: textDir },
        agentx: { master: `tcp:127.0.0.1:${agentxPort}` },
        run: { interval: "1s", heartbeat: "1h" },
      };
      configFile = join(work, "config.yaml");
      writeFileSync(configFile, JSON.stringify(baseConfig));
      agent = startAgent();
      await waitFor("the daemon's first textfile", () => textfileSample(textDir, prefixSeries) === 1, 20_000, 100).catch((error) => {
        throw new Error(`${(error as Error).message}\n${agent.output()}`);
      });
      await waitFor("AgentX in the namespace", async () => (await agentxValue(primaryOid)) === PREFIX, 10_000, 200);
    });

    afterAll(async () => {
      await agent?.stop();
      await trapd?.stop();
      await snmpdChild?.stop();
      await tailscaled?.stop();
      ns?.remove();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it("announces its start to snmptrapd with an acknowledged agentStarted inform", async () => {
      const started = await waitFor("edgeAgentStarted at snmptrapd", () => notified("edgeAgentStarted")[0], 5000, 50).catch((error) => {
        throw new Error(`${(error as Error).message}\n${trapd.output()}\n${agent.output()}`);
      });
      expect(started.security).toMatch(/^INFORM, SNMP v2c, community /);
      expect(started.values.edgeAgentPrimaryPrefix).toBe(`STRING: ${PREFIX}`);
      await waitFor("the outbox to empty", () => outboxEntries().length === 0, 2000, 20);
    });

    it("removing the global address reaches snmptrapd, the textfile and AgentX within 2 s", async () => {
      const t0 = Date.now();
      ns.exec("ip", ["-6", "addr", "del", `${ADDRESS}/64`, "dev", "ea0"]);
      const left = () => Math.max(1, 2000 - (Date.now() - t0));
      const [changed] = await Promise.all([
        waitFor("edgeAgentAddressChanged at snmptrapd", () => notified("edgeAgentAddressChanged")[0], left(), 20),
        waitFor("the textfile to drop the /64", () => textfileSample(textDir, "edge_agent_ipv6_global_prefixes") === 0, left(), 20),
        waitFor("AgentX to drop the /64", async () => (await agentxValue(primaryOid)) === "", left(), 50),
      ]);
      expect(changed.values.edgeAgentEventSummary).toContain(`was: primary /64 ${PREFIX}`);
      await waitFor("the change in the log", () => logLines().some((l) => l.event === "addressChanged"), 1000);
    });

    it("logs one line per change, not one per cycle, and never the community", async () => {
      const cycles = () => textfileSample(textDir, "edge_agent_last_cycle_timestamp_seconds") ?? 0;
      // The address change above re-probed only the addresses; the next full cycle still has news
      // of it (the firewall has no global IPv6 address left to be asked about). Let it pass.
      const settled = cycles();
      await waitFor("a full cycle after the address change", () => cycles() >= settled + 2, 6000, 100);
      // A cycle logs before it writes the textfile, but pino writes asynchronously: the lines of
      // a cycle are read one cycle after it, both before the baseline and at the end.
      await waitFor("one more cycle", () => cycles() >= settled + 3, 6000, 100);
      const first = cycles();
      const linesBefore = logLines().length;
      await waitFor("three more cycles, and one for their lines", () => cycles() >= first + 4, 8000, 100);
      expect(logLines().slice(linesBefore)).toEqual([]);
      expect(agent.output()).not.toContain(SECRET);
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
      // pino writes asynchronously: the line may reach the pipe after the textfile is renamed.
      await waitFor("config reloaded in the log", () => logLines().some((l) => l.msg.startsWith("config reloaded")), 2000, 20);
    });

    it("SIGTERM with the receiver down exits 0 within 5 s and keeps the notification in the outbox", async () => {
      await trapd.stop();
      ns.exec("ip", ["-6", "addr", "add", `${ADDRESS}/64`, "dev", "ea0", "nodad"]);
      await waitFor("the addressChanged inform to wait in the outbox", () => outboxEntries().some((e) => e.event.kind === "addressChanged"), 2000, 20);
      const exited = new Promise<number | null>((r) => agent.child.once("exit", (code) => r(code)));
      const t0 = Date.now();
      agent.child.kill("SIGTERM");
      const code = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 5000))]);
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      await agent.ended; // its last log lines
      const kept = outboxEntries().filter((e) => e.event.kind === "addressChanged");
      expect(kept).toHaveLength(1);
      expect(kept[0].event.summary).toContain(`primary /64 ${PREFIX}`);
      // The address also re-judges the firewall (its IPv6 check needs it): that change waits too.
      const waiting = outboxEntries().length;
      outboxCountAtStop = waiting;
      expect(logLines().some((l) => new RegExp(`${waiting} notifications? kept in the outbox for the next start`).test(l.msg))).toBe(true);
    });

    it("the next start delivers it first, with its original sequence number", async () => {
      const [kept] = outboxEntries();
      trapd = await startSnmptrapd({ netns: ns.name, community: SECRET, port: trapd.port });
      agent = startAgent();
      await waitFor("agentStarted after the restart", () => notified("edgeAgentStarted")[0], 10_000, 50).catch((error) => {
        throw new Error(`${(error as Error).message}\n${trapd.output()}\n${agent.output()}`);
      });
      const names = trapd.received().map((n) => [n.name, n.values.edgeAgentNotificationSequence]);
      const keptCount = outboxCountAtStop;
      expect(names[0]).toEqual(["EDGE-AGENT-MIB::edgeAgentAddressChanged", `Gauge32: ${kept.sequence}`]);
      // Every kept one first, in order, then the new start.
      expect(names[keptCount]).toEqual(["EDGE-AGENT-MIB::edgeAgentStarted", `Gauge32: ${kept.sequence + keptCount}`]);
      await waitFor("the outbox to empty", () => outboxEntries().length === 0, 2000, 20);
    });
  });
});

describe("`edge-agent run` with a bad config", () => {
  it("exits 2 naming the file and the key", async () => {
    const work = mkdtempSync(join(tmpdir(), "ea-run-bad-"));
    try {
      const file = join(work, "config.yaml");
      writeFileSync(file, "run: { interval: soon }\n");
      const result = await run(process.execPath, [BUNDLE, "run", "--config", file], { cwd: REPO }).then(
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
