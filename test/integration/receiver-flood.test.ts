// `edge-agent receive` (the bundle as its unit starts it) under floods that used to cost it
// memory and time: a thousand nodes sending 60 KB values (refused, counted, RSS flat), and eight
// concurrent /metrics scrapes of a 20,000-node fleet while notifications keep changing it (one
// rendering shared per change, each scrape well inside Prometheus's 10 s timeout).
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import snmp from "net-snmp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { toVarbinds } from "../../agent/snmp/varbinds";
import { freeTcpPort, freeUdpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import type { Daemon } from "../helpers/process";
import { startUnit } from "../helpers/unit-exec";
import { COMMUNITY, capture, edgeValues, metricsText, sample, tree } from "./receiver-support";

const NODES = 20_000;

function rssMiB(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
  return Math.round(kb / 1024);
}

/** v2c heartbeats for `nodes` (as net-snmp puts them on the wire), with values edited by `edit`. */
async function heartbeats(nodes: string[], sequence: number, edit: (values: ReturnType<typeof edgeValues>) => ReturnType<typeof edgeValues> = (v) => v, huge = false): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const at = Date.now();
  // In chunks the capturing socket's buffer holds.
  const size = huge ? 2 : 25;
  for (let start = 0; start < nodes.length; start += size) {
    const chunk = nodes.slice(start, start + size);
    out.push(
      ...(await capture((port) => {
        const session = snmp.createSession("127.0.0.1", COMMUNITY, { version: snmp.Version2c, trapPort: port });
        for (const node of chunk) {
          const varbinds = toVarbinds(tree, edit(edgeValues(node, sequence, {}, new Date(at))));
          // 60 KB in the summary, past what toVarbinds would ever encode.
          if (huge) varbinds.find((vb) => vb.oid === `${tree.objectOid("edgeAgentEventSummary")}.0`)!.value = Buffer.alloc(60_000, "x");
          session.trap(tree.notificationOid("heartbeat"), varbinds, () => undefined);
        }
        setTimeout(() => session.close(), 200);
      }, chunk.length)),
    );
  }
  return out;
}

describeWith({}, "edge-agent receive under floods", () => {
  let dir: string;
  let port: number;
  let metricsUrl: string;
  let receiver: Daemon;
  let sender: Socket;
  const lines = () => receiver.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ea-receiver-flood-"));
    port = await freeUdpPort();
    const metricsPort = await freeTcpPort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    // A fleet of 20,000 nodes as a receiver saves it.
    const now = Date.now();
    const nodes = Array.from({ length: NODES }, (_, i) => ({ node: `n${i}`, values: edgeValues(`n${i}`, 1), lastSeenMs: now, lastSequence: 1, lastEventMs: now - 1000, source: "127.0.0.1" }));
    writeFileSync(join(dir, "fleet.json"), JSON.stringify({ version: 1, nodes }));
    const config = join(dir, "config.yaml");
    writeFileSync(config, JSON.stringify({ receiver: { listen: [`udp:127.0.0.1:${port}`], communities: [COMMUNITY], metrics: `127.0.0.1:${metricsPort}`, fileSd: join(dir, "sd.yml"), state: join(dir, "fleet.json") } }));
    receiver = startUnit(["receive", "--config", config], { unit: "edge-agent-receiver.service" });
    await waitFor("receiver started", () => lines().some((l) => l.msg === "receiver started"), 30_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${receiver.output().slice(-3000)}`);
    });
    sender = createSocket("udp4");
    await new Promise<void>((resolve) => sender.bind(0, "127.0.0.1", resolve));
  }, 120_000);
  afterAll(async () => {
    sender?.close();
    await receiver?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sent ten at a time with a pause between tens, spreading a flood over time. */
  const send = async (datagrams: Buffer[], pauseMs: number) => {
    for (let i = 0; i < datagrams.length; i += 10) {
      await Promise.all(datagrams.slice(i, i + 10).map((d) => new Promise<void>((resolve) => sender.send(d, port, "127.0.0.1", () => resolve()))));
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };

  /**
   * Sent ten at a time, each ten once the receiver has read the ones before (its datagram
   * counter), so the socket buffer never overflows on a loaded machine and every datagram is
   * counted. (Only for datagrams that do not change the fleet: /metrics then stays cached.)
   */
  const sendCounted = async (datagrams: Buffer[]) => {
    const counted = async () => sample(await metricsText(metricsUrl), "edge_fleet_receiver_datagrams_total") ?? 0;
    const base = await counted();
    for (let i = 0; i < datagrams.length; i += 10) {
      await Promise.all(datagrams.slice(i, i + 10).map((d) => new Promise<void>((resolve) => sender.send(d, port, "127.0.0.1", () => resolve()))));
      const sent = base + Math.min(i + 10, datagrams.length);
      await waitFor(`${sent} datagrams read`, async () => (await counted()) >= sent, 30_000, 5);
    }
  };

  it("refuses a thousand nodes' 60 KB values, counts them, and its memory stays flat", async () => {
    const big = await heartbeats(Array.from({ length: 1000 }, (_, i) => `big${i}`), 1, (v) => v, true);
    const before = rssMiB(receiver.child.pid!);
    await sendCounted(big);
    await waitFor("all 1000 refused", async () => sample(await metricsText(metricsUrl), 'edge_fleet_receiver_notifications_dropped_total{reason="oversize"}') === 1000, 30_000, 200);
    const after = rssMiB(receiver.child.pid!);
    console.log(`1000 x 60 KB values: RSS ${before} -> ${after} MiB`);
    // Transient buffers only (a kept 60 KB value per node was ~600 MiB).
    expect(after - before).toBeLessThan(200);
    // Logged at most 20 times per 10 s, without the value.
    const logged = lines().filter((l) => l.reason === "oversize");
    expect(logged.length).toBeLessThan(100);
    expect(logged.every((l) => JSON.stringify(l).length < 1000)).toBe(true);
  });

  it("serves eight concurrent scrapes of 20,000 nodes during a flood of changes from one shared rendering each time", async () => {
    const flood = await heartbeats(Array.from({ length: 2000 }, (_, i) => `n${i}`), 2);
    const renders = async () => sample(await metricsText(metricsUrl), "edge_fleet_receiver_metrics_renders_total")!;
    const rendersBefore = await renders();
    // A few seconds of changes.
    const sending = send(flood, 10);
    const times: number[] = [];
    let rounds = 0;
    let peakRss = 0;
    const started = Date.now();
    while (rounds < 3 || Date.now() - started < 3000) {
      const round = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const t0 = Date.now();
          const res = await fetch(metricsUrl);
          const text = await res.text();
          expect(res.status).toBe(200);
          expect(text).toContain('edge_fleet_node_up{node="n19999"} 1');
          return Date.now() - t0;
        }),
      );
      times.push(...round);
      peakRss = Math.max(peakRss, rssMiB(receiver.child.pid!));
      rounds++;
    }
    await sending;
    const rendered = (await renders()) - rendersBefore;
    console.log(`${rounds} rounds of 8 concurrent scrapes of ${NODES} nodes during a flood: slowest ${Math.max(...times)} ms, ${rendered} renderings, peak RSS ${peakRss} MiB`);
    expect(Math.max(...times)).toBeLessThan(10_000);
    // One rendering per round at most (plus the one the counter read itself may cause).
    expect(rendered).toBeGreaterThanOrEqual(1);
    expect(rendered).toBeLessThanOrEqual(rounds + 2);
    expect(peakRss).toBeLessThan(1024);
  }, 120_000);
});
