// Tens of thousands of malformed datagrams — random bytes, truncated and mutated valid messages
// (v2c, v3 authPriv, informs) — never take the receiver down; every datagram is counted, and the
// valid notifications sent in between are all applied.
import { createSocket, type Socket } from "node:dgram";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import snmp from "net-snmp";
import { toNetSnmpUser } from "../../agent/snmp/usm";
import { toVarbinds } from "../../agent/snmp/varbinds";
import { describeWith } from "../helpers/prereqs";
import { waitFor } from "../helpers/ports";
import { COMMUNITY, V3_USER, capture, edgeValues, metricsText, sample, startTestReceiver, tree, type TestReceiver } from "./receiver-support";

async function v2Traps(node: string, from: number, count: number): Promise<Buffer[]> {
  const at = Date.now();
  const out: Buffer[] = [];
  // In chunks the capturing socket's receive buffer holds.
  for (let start = 0; start < count; start += 50) {
    const n = Math.min(50, count - start);
    out.push(
      ...(await capture((port) => {
        const session = snmp.createSession("127.0.0.1", COMMUNITY, { version: snmp.Version2c, trapPort: port });
        for (let i = start; i < start + n; i++) session.trap(tree.notificationOid("heartbeat"), toVarbinds(tree, edgeValues(node, from + i, {}, new Date(at + i * 100))), () => undefined);
        setTimeout(() => session.close(), 200);
      }, n)),
    );
  }
  return out;
}

const rnd = (n: number) => Math.floor(Math.random() * n);

function mutate(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  for (let i = 0, n = 1 + rnd(4); i < n; i++) out[rnd(out.length)] = rnd(256);
  return out;
}

describeWith({}, "receiver under malformed datagrams", () => {
  let r: TestReceiver;
  let sender: Socket;
  beforeAll(async () => {
    r = await startTestReceiver();
    sender = createSocket("udp4");
    await new Promise<void>((resolve) => sender.bind(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    sender?.close();
    await r?.stop();
  });

  it("counts every bad datagram and still applies every valid notification in between", async () => {
    const valid = await v2Traps("fuzzvalid", 1, 300);
    const bases = [
      ...(await v2Traps("mutant", 1, 3)),
      ...(await capture((port) => {
        const s = snmp.createV3Session("127.0.0.1", toNetSnmpUser(V3_USER as never), { version: snmp.Version3, trapPort: port, engineID: "8000000001020304" });
        s.trap(tree.notificationOid("heartbeat"), toVarbinds(tree, edgeValues("mutant3", 1)), () => setTimeout(() => s.close(), 100));
      }, 1)),
      ...(await capture((port) => {
        const s = snmp.createSession("127.0.0.1", COMMUNITY, { version: snmp.Version2c, port, trapPort: port, retries: 0, timeout: 200 });
        s.inform(tree.notificationOid("heartbeat"), toVarbinds(tree, edgeValues("mutant4", 1)), () => s.close());
      }, 1)),
    ];
    const bad: Buffer[] = [];
    for (let i = 0; i < 10_000; i++) bad.push(randomBytes(rnd(300)));
    for (let i = 0; i < 10_000; i++) {
      const base = bases[rnd(bases.length)];
      bad.push(base.subarray(0, rnd(base.length)));
    }
    for (let i = 0; i < 10_000; i++) bad.push(mutate(bases[rnd(bases.length)]));
    // A valid notification after every hundred bad ones, sent in bursts the socket buffer holds.
    const stream: Buffer[] = [];
    bad.forEach((b, i) => {
      stream.push(b);
      if (i % 100 === 99) stream.push(valid[(i - 99) / 100]);
    });
    const sendOne = (buf: Buffer) => new Promise<void>((resolve) => sender.send(buf, r.port, "127.0.0.1", () => resolve()));
    const counted = async () => (await r.receiver.metrics.datagrams.get()).values[0]?.value ?? 0;
    const started = Date.now();
    for (let i = 0; i < stream.length; i += 50) {
      await Promise.all(stream.slice(i, i + 50).map(sendOne));
      // Flow control, so the kernel's socket buffer never overflows: wait until the receiver read them.
      const sent = Math.min(i + 50, stream.length);
      while ((await counted()) < sent && Date.now() - started < 50_000) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const text = await waitFor("all datagrams counted", async () => {
      const t = await metricsText(r.metricsUrl);
      return sample(t, "edge_fleet_receiver_datagrams_total") === stream.length ? t : null;
    }, 30_000, 200);
    const fuzz = r.receiver.fleet.nodes.get("fuzzvalid");
    expect(fuzz?.lastSequence).toBe(300);
    expect(r.logs.filter((l) => l.node === "fuzzvalid" && (l.outcome === "first" || l.outcome === "applied"))).toHaveLength(300);
    const decodeErrors = sample(text, "edge_fleet_receiver_decode_errors_total")!;
    const authFailures = ["unknown_community", "unknown_user", "wrong_digest", "decrypt_failed", "unauthenticated"].reduce((sum, reason) => sum + sample(text, `edge_fleet_receiver_auth_failures_total{reason="${reason}"}`)!, 0);
    const received = text.split("\n").filter((l) => l.startsWith("edge_fleet_receiver_notifications_received_total{")).reduce((sum, l) => sum + Number(l.split(" ")[1]), 0);
    // Mutated v3 messages keep the (never authenticated) engine ID: past its source's allowance they are dropped unprocessed.
    const rateLimited = ["v3_engine", "v3_discovery"].reduce((sum, what) => sum + sample(text, `edge_fleet_receiver_rate_limited_total{what="${what}"}`)!, 0);
    // Every datagram ends somewhere: refused as undecodable, unauthenticated or too frequent, or received.
    // (A few mutated v3 messages are answered with a discovery report, counted in none of these.)
    expect(decodeErrors).toBeGreaterThan(15_000);
    expect(decodeErrors + authFailures + rateLimited + received).toBeGreaterThan(stream.length - 200);
    expect(decodeErrors + authFailures + rateLimited + received).toBeLessThanOrEqual(stream.length);
    // The log did not become a flood: bad datagrams are summed up, not logged one by one.
    expect(r.logs.filter((l) => l.category === "decode").length).toBeLessThan(200);
  });
});
