// One hostile tailnet peer against `edge-agent receive` (the bundle as its unit starts it, in
// its own network namespace, with no tailscaled to ask): it cannot pass itself off as another
// node, oversized values and names that are not DNS labels are refused and counted, floods of
// other MIBs' traps and of v3 engine IDs cost bounded log and CPU, a test notification leaves
// no fleet state, and /metrics is rendered once per change however many scrape at once.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import snmp, { type Varbind } from "net-snmp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toNetSnmpUser } from "../../agent/snmp/usm";
import { toVarbinds } from "../../agent/snmp/varbinds";
import { runAgent } from "../helpers/cli";
import { createNetns, type Netns } from "../helpers/netns";
import { waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import type { Daemon } from "../helpers/process";
import { startUnit } from "../helpers/unit-exec";
import { COMMUNITY, V3_USER, capture, edgeValues, sample, tree } from "./receiver-support";

const PEER = resolve(__dirname, "receiver-peer.cjs");
const SCRAPER = "100.64.0.1";
const HONEST = "100.101.102.103";
const HOSTILE = "100.90.1.2";

/** The namespace's side: sends datagrams from any of its addresses and fetches its URLs. */
class Peer {
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  private queue = Promise.resolve();
  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.answers.push(line);
    });
  }

  private ask<T>(request: Record<string, unknown>): Promise<T> {
    const next = this.queue.then(
      () =>
        new Promise<T>((resolveAnswer, reject) => {
          this.waiting = (line) => {
            const answer = JSON.parse(line);
            if (answer.error) reject(new Error(answer.error));
            else resolveAnswer(answer);
          };
          this.child.stdin.write(`${JSON.stringify(request)}\n`);
        }),
    );
    this.queue = next.then(() => undefined, () => undefined);
    return next;
  }

  send(from: string, port: number, datagrams: Buffer[]): Promise<{ sent: number }> {
    return this.ask({ op: "send", from, to: SCRAPER, port, datagrams: datagrams.map((d) => d.toString("hex")) });
  }

  get(url: string): Promise<{ status: number; text: string }> {
    return this.ask({ op: "get", url });
  }

  getMany(url: string, count: number): Promise<{ statuses: number[]; lengths: number[] }> {
    return this.ask({ op: "getMany", url, count });
  }
}

async function v2cTrap(values: Record<string, string | number | boolean>, event: Parameters<typeof tree.notificationOid>[0] = "heartbeat", edit: (vbs: Varbind[]) => Varbind[] = (v) => v): Promise<Buffer> {
  const [datagram] = await capture((port) => {
    const session = snmp.createSession("127.0.0.1", COMMUNITY, { version: snmp.Version2c, trapPort: port });
    session.trap(tree.notificationOid(event), edit(toVarbinds(tree, values)), () => setTimeout(() => session.close(), 50));
  }, 1);
  return datagram;
}

function otherTraps(count: number, value: string): Promise<Buffer[]> {
  return capture((port) => {
    const session = snmp.createSession("127.0.0.1", COMMUNITY, { version: snmp.Version2c, trapPort: port });
    for (let i = 0; i < count; i++) session.trap("1.3.6.1.6.3.1.1.5.1", [{ oid: "1.3.6.1.2.1.1.5.0", type: snmp.ObjectType.OctetString, value: Buffer.from(value) }], () => undefined);
    setTimeout(() => session.close(), 200);
  }, count);
}

/** v3 authPriv traps with the right user and keys, each from a made-up engine ID. */
async function v3TrapsFromNewEngines(count: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let start = 0; start < count; start += 50) {
    const n = Math.min(50, count - start);
    out.push(
      ...(await capture((port) => {
        for (let i = start; i < start + n; i++) {
          const session = snmp.createV3Session("127.0.0.1", toNetSnmpUser(V3_USER as never), { version: snmp.Version3, trapPort: port, engineID: `80001f88${(0x10000000 + i).toString(16)}` });
          session.trap("1.3.6.1.6.3.1.1.5.1", [], () => setTimeout(() => session.close(), 50));
        }
      }, n)),
    );
  }
  return out;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Receiver {
  daemon: Daemon;
  dir: string;
  port: number;
  metricsUrl: string;
  lines: () => Record<string, any>[];
  metrics: () => Promise<string>;
}

describeWith({ root: true }, "edge-agent receive against one hostile peer (no tailscaled)", () => {
  let ns: Netns;
  let peer: Peer;
  let peerChild: ChildProcessWithoutNullStreams;
  let base: string;
  const daemons: Daemon[] = [];

  async function startReceiver(name: string, port: number, receiver: Record<string, unknown>, before?: (dir: string) => void): Promise<Receiver> {
    const dir = join(base, name);
    mkdirSync(dir);
    before?.(dir);
    const config = join(dir, "config.yaml");
    const metricsPort = port + 8000;
    // JSON is YAML.
    writeFileSync(
      config,
      JSON.stringify({
        receiver: { listen: [`udp:0.0.0.0:${port}`], communities: [COMMUNITY], users: [V3_USER], metrics: `127.0.0.1:${metricsPort}`, fileSd: join(dir, "file_sd", "edge-agent.yml"), state: join(dir, "fleet.json"), ...receiver },
        tailscale: { socket: join(dir, "no-tailscaled.sock") },
        notifications: { target: `127.0.0.1:${port}`, version: "2c", community: COMMUNITY, inform: true, timeout: "2s", retries: 1 },
      }),
    );
    const daemon = startUnit(["receive", "--config", config], { unit: "edge-agent-receiver.service", netns: ns.name });
    daemons.push(daemon);
    const lines = () => daemon.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    await waitFor("receiver started", () => lines().some((l) => l.msg === "receiver started"), 20_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${daemon.output()}`);
    });
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    return { daemon, dir, port, metricsUrl, lines, metrics: async () => (await peer.get(metricsUrl)).text };
  }

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), "ea-receiver-hostile-"));
    ns = createNetns("earh");
    // Tailnet-like addresses on the namespace's lo: traffic between them stays local, but its
    // sources are not loopback addresses, which the receiver would trust.
    for (const address of [SCRAPER, HONEST, HOSTILE]) ns.exec("ip", ["addr", "add", `${address}/32`, "dev", "lo"]);
    peerChild = spawn("ip", ["netns", "exec", ns.name, process.execPath, PEER], { stdio: ["pipe", "pipe", "pipe"] });
    peer = new Peer(peerChild);
  });
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    peerChild?.kill("SIGKILL");
    ns?.remove();
    rmSync(base, { recursive: true, force: true });
  });

  describe("default config", () => {
    let r: Receiver;
    beforeAll(async () => {
      r = await startReceiver("default", 1162, {}, (dir) => {
        // A save and a file_sd write that a kill -9 cut short, by an earlier process.
        writeFileSync(join(dir, ".fleet.json.424242.tmp"), "{half");
        mkdirSync(join(dir, "file_sd"));
        writeFileSync(join(dir, "file_sd", ".edge-agent.yml.424243.tmp"), "- targets: [");
      });
    });

    it("says at start that new nodes cannot be verified, and removes the temporary files an earlier run left", async () => {
      expect(r.lines().find((l) => l.warning === "unverifiable-sources")).toMatchObject({ level: 40, msg: expect.stringContaining("refused as unverified") });
      expect(readdirSync(r.dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
      expect(readdirSync(join(r.dir, "file_sd")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
      expect(r.lines().some((l) => l.msg === "removed temporary files an earlier run left behind")).toBe(true);
    });

    it("refuses a peer claiming another node's name with its own address in the claim", async () => {
      await peer.send(HOSTILE, r.port, [await v2cTrap(edgeValues("victim", 1, { edgeAgentTailnetAddresses: HOSTILE }))]);
      const line = await waitFor("the refusal logged", () => r.lines().find((l) => l.reason === "unverified"));
      expect(line).toMatchObject({ source: HOSTILE, claimedNode: "victim.example-tailnet.ts.net", msg: expect.stringContaining("receiver.allowSources") });
      expect(sample(await r.metrics(), 'edge_fleet_receiver_notifications_dropped_total{reason="unverified"}')).toBe(1);
      expect(r.lines().some((l) => l.node === "victim")).toBe(false);
    });

    it("refuses values over their MIB SIZE and counts them", async () => {
      const huge = (vbs: Varbind[]) => vbs.map((vb) => (vb.oid === `${tree.objectOid("edgeAgentEventSummary")}.0` ? { ...vb, value: Buffer.alloc(60_000, "x") } : vb));
      await peer.send("127.0.0.1", r.port, [await v2cTrap(edgeValues("bigvalue", 1), "heartbeat", huge)]);
      const line = await waitFor("the refusal logged", () => r.lines().find((l) => l.reason === "oversize"));
      expect(line.msg).toBe("dropped an EDGE-AGENT-MIB notification: edgeAgentEventSummary is 60000 octets, more than its SIZE of 255");
      expect(sample(await r.metrics(), 'edge_fleet_receiver_notifications_dropped_total{reason="oversize"}')).toBe(1);
      expect(r.lines().some((l) => l.node === "bigvalue")).toBe(false);
    });

    it("takes only DNS labels as node names, so file_sd holds only scrapable targets", async () => {
      const names = ["localhost:9100", "[fd00::1]:9100", "a b:80", "new\nline", "good-node"];
      for (const [i, name] of names.entries()) await peer.send("127.0.0.1", r.port, [await v2cTrap(edgeValues("x", i + 1, { edgeAgentTailnetName: `${name}.example-tailnet.ts.net` }))]);
      await waitFor("good-node applied", () => r.lines().some((l) => l.node === "good-node"));
      const fileSd = join(r.dir, "file_sd", "edge-agent.yml");
      await waitFor("file_sd with good-node", () => existsSync(fileSd) && readFileSync(fileSd, "utf8").includes("good-node"));
      expect(readFileSync(fileSd, "utf8").match(/targets: \[.*\]/g)).toEqual(['targets: ["good-node:9100"]']);
      expect(sample(await r.metrics(), 'edge_fleet_receiver_notifications_dropped_total{reason="invalid"}')).toBe(4);
    });

    it("answers `trap --test`, logs and counts it, and keeps it out of the fleet", async () => {
      const before = await r.metrics();
      const run = await runAgent(["trap", "--test", "--config", join(r.dir, "config.yaml")], { netns: ns.name });
      expect(run.stdout).toMatch(/acknowledged in \d+ ms/);
      const line = await waitFor("the test notification logged", () => r.lines().find((l) => l.event === "test"));
      expect(line.msg).toMatch(/^test notification from .*not applied to the fleet$/);
      const after = await r.metrics();
      expect(sample(after, "edge_fleet_receiver_test_notifications_total")).toBe(1);
      expect(sample(after, 'edge_fleet_nodes{stale="false"}')).toBe(sample(before, 'edge_fleet_nodes{stale="false"}'));
      expect(r.lines().some((l) => l.event === "test" && l.node)).toBe(false);
    });

    it("logs other MIBs' traps at most 20 per 10 s, each value cut short", async () => {
      await peer.send("127.0.0.1", r.port, await otherTraps(30, "y".repeat(2000)));
      await waitFor("30 received", async () => sample(await r.metrics(), 'edge_fleet_receiver_notifications_received_total{version="2c",pdu="trap",mib="other"}') === 30, 10_000, 100);
      // The counter can move before the log lines reach the pipe (pino writes asynchronously).
      await waitFor("20 coldStart lines in the log", () => r.lines().filter((l) => l.trapName === "SNMPv2-MIB::coldStart").length >= 20, 10_000, 100);
      const logged = r.lines().filter((l) => l.trapName === "SNMPv2-MIB::coldStart");
      expect(logged).toHaveLength(20);
      expect(logged.every((l) => JSON.stringify(l).length < 1000)).toBe(true);
    });

    it("bounds the CPU a flood of made-up v3 engine IDs costs, and still takes a valid notification", async () => {
      const flood = await v3TrapsFromNewEngines(1000);
      const cpuBefore = cpuSeconds(r.daemon.child.pid!);
      await peer.send(HOSTILE, r.port, flood);
      await peer.send("127.0.0.1", r.port, [await v2cTrap(edgeValues("after-flood", 1))]);
      await waitFor("after-flood applied", () => r.lines().some((l) => l.node === "after-flood"));
      const cpu = cpuSeconds(r.daemon.child.pid!) - cpuBefore;
      const text = await r.metrics();
      const limited = sample(text, 'edge_fleet_receiver_rate_limited_total{what="v3_engine"}')!;
      console.log(`v3 engine flood: 1000 datagrams, ${limited} rate-limited, ${cpu.toFixed(2)} s CPU in the receiver`);
      expect(limited).toBeGreaterThan(900);
      // Unbounded, each would cost a key localization (~3.5 ms): 3.5 s.
      expect(cpu).toBeLessThan(1.5);
    });

    it("renders /metrics once per change, however many scrape at once", async () => {
      await peer.send("127.0.0.1", r.port, [await v2cTrap(edgeValues("good-node", 9))]);
      await waitFor("sequence 9 applied", () => r.lines().some((l) => l.node === "good-node" && l.sequence === 9));
      const renders = (text: string) => sample(text, "edge_fleet_receiver_metrics_renders_total")!;
      const first = renders(await r.metrics());
      expect(first).toBeGreaterThanOrEqual(1);
      const many = await peer.getMany(r.metricsUrl, 8);
      expect(many.statuses).toEqual(Array(8).fill(200));
      expect(renders(await r.metrics())).toBe(first);
    });
  });

  it("with allowSources: a new node is bound to the source of its first report, another source cannot take its name, and one source cannot mint nodes; creating the file_sd directory is logged", async () => {
    const r = await startReceiver("allow", 1163, { allowSources: ["100.64.0.0/10"] });
    expect(r.lines().find((l) => l.msg?.startsWith("created "))).toMatchObject({ level: 30, created: join(r.dir, "file_sd") });
    await peer.send(HONEST, r.port, [await v2cTrap(edgeValues("honest", 1, { edgeAgentTailnetAddresses: HONEST }))]);
    await waitFor("honest applied", () => r.lines().find((l) => l.node === "honest" && l.identity === "allowed-source"));
    await peer.send(HOSTILE, r.port, [await v2cTrap(edgeValues("honest", 2, { edgeAgentTailnetAddresses: HOSTILE }))]);
    const refusal = await waitFor("the impostor refused", () => r.lines().find((l) => l.reason === "identity_mismatch"));
    expect(refusal.msg).toContain(`was last accepted from ${HONEST}, not ${HOSTILE}`);
    await peer.send(HONEST, r.port, [await v2cTrap(edgeValues("honest", 3, { edgeAgentTailnetAddresses: HONEST }))]);
    await waitFor("honest's next report applied", () => r.lines().find((l) => l.node === "honest" && l.sequence === 3 && l.identity === "binding"));
    expect(r.lines().some((l) => l.node === "honest" && l.sequence === 2)).toBe(false);
    // The peer may report as itself, once: it cannot mint more nodes from the same address.
    await peer.send(HOSTILE, r.port, [await v2cTrap(edgeValues("peer", 1, { edgeAgentTailnetAddresses: HOSTILE }))]);
    await waitFor("the peer applied as itself", () => r.lines().find((l) => l.node === "peer" && l.identity === "allowed-source"));
    await peer.send(HOSTILE, r.port, [await v2cTrap(edgeValues("minted", 1, { edgeAgentTailnetAddresses: HOSTILE }))]);
    const minted = await waitFor("a second node from the same source refused", () => r.lines().find((l) => l.claimedNode === "minted.example-tailnet.ts.net"));
    expect(minted).toMatchObject({ reason: "identity_mismatch", msg: expect.stringContaining(`source ${HOSTILE} already speaks for node peer`) });
  });

  it("with no communities and no users: warns at start that everything will be refused", async () => {
    const r = await startReceiver("nocreds", 1164, { communities: [], users: [] });
    expect(r.lines().find((l) => l.warning === "no-credentials")).toMatchObject({ level: 40, msg: expect.stringContaining("every notification will be refused") });
  });
});
