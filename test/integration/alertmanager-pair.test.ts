// The README's High availability step for Alertmanager, with Debian's real alertmanager on
// loopback: two peers clustered with --cluster.peer, each sent the same alert by two Prometheus
// servers (as with `alertmanagers: [a, b]` on both), notify once; the same pair without the
// cluster notifies twice; and an alert whose labels differ between the two servers (an
// external label such as `replica`) is two alerts, so it notifies twice even when clustered.
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freeTcpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { startDaemon, type Daemon } from "../helpers/process";

const dir = mkdtempSync(join(tmpdir(), "ea-am-pair-"));
const daemons: Daemon[] = [];
let hook: Server;
/** The node label of each alert in each notification the webhook got. */
const notified: string[][] = [];

interface Peer {
  url: string;
}

async function startAlertmanager(name: string, hookUrl: string, cluster: { listen: number; peer: number } | null): Promise<Peer> {
  const port = await freeTcpPort();
  // Every label set its own group, as `group_by: ['...']` does: two label sets, two notifications.
  writeFileSync(join(dir, `${name}.yml`), `route: { receiver: hook, group_by: ['...'], group_wait: 1s, group_interval: 5m, repeat_interval: 4h }\nreceivers: [{ name: hook, webhook_configs: [{ url: "${hookUrl}" }] }]\n`);
  const clusterArgs = cluster
    ? [`--cluster.listen-address=127.0.0.1:${cluster.listen}`, `--cluster.advertise-address=127.0.0.1:${cluster.listen}`, `--cluster.peer=127.0.0.1:${cluster.peer}`, "--cluster.settle-timeout=5s"]
    : ["--cluster.listen-address="];
  const am = startDaemon("prometheus-alertmanager", [`--config.file=${join(dir, `${name}.yml`)}`, `--storage.path=${join(dir, name)}`, `--web.listen-address=127.0.0.1:${port}`, ...clusterArgs, "--log.level=warn"]);
  daemons.push(am);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`alertmanager ${name} ready`, async () => (await fetch(`${url}/-/ready`).catch(() => null))?.ok, 30_000, 200).catch((e) => {
    throw new Error(`${(e as Error).message}\n${am.output()}`);
  });
  return { url };
}

/** What a Prometheus server sends for one firing alert. */
async function post(peer: Peer, labels: Record<string, string>): Promise<void> {
  const res = await fetch(`${peer.url}/api/v2/alerts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([{ labels, annotations: { summary: "test" }, startsAt: new Date().toISOString() }]),
  });
  expect(res.status).toBe(200);
}

describeWith({ binaries: ["prometheus-alertmanager"] }, "two Alertmanagers as the README's High availability section sets them up", () => {
  let hookUrl: string;

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        const message = JSON.parse(body) as { alerts: { labels: Record<string, string> }[] };
        notified.push(message.alerts.map((a) => a.labels.node));
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    const address = hook.address();
    hookUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
  });

  afterAll(async () => {
    for (const d of daemons) await d.stop();
    hook?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("clustered: one notification per alert; unclustered, or with differing labels: two", async () => {
    const [ca, cb] = [await freeTcpPort(), await freeTcpPort()];
    const clustered = [await startAlertmanager("a", hookUrl, { listen: ca, peer: cb }), await startAlertmanager("b", hookUrl, { listen: cb, peer: ca })];
    const alone = [await startAlertmanager("c", hookUrl, null), await startAlertmanager("d", hookUrl, null)];
    // The cluster has formed once each peer lists both.
    await waitFor("the two peers to see each other", async () => {
      const status = await Promise.all(clustered.map(async (p) => (await (await fetch(`${p.url}/api/v2/status`)).json()) as { cluster: { peers?: unknown[]; status: string } }));
      return status.every((s) => s.cluster.peers?.length === 2 && s.cluster.status === "ready");
    }, 30_000, 250);

    const alert = (node: string) => ({ alertname: "EdgeNodeStale", node, severity: "critical" });
    // Two Prometheus servers, each sending every alert to every Alertmanager.
    for (const prometheus of ["a", "b"]) {
      for (const peer of clustered) await post(peer, alert("same-labels"));
      // A label only one server adds: the pair sees two different alerts.
      for (const peer of clustered) await post(peer, { ...alert("replica-label"), ...(prometheus === "b" ? { replica: "b" } : {}) });
      for (const peer of alone) await post(peer, alert("no-cluster"));
    }
    // The second peer waits --cluster.peer-timeout (15 s) before it notifies, and does not
    // when the first already has: wait past that before counting.
    await waitFor("the first notifications", () => notified.length >= 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 22_000));
    const count = (node: string) => notified.filter((n) => n.includes(node)).length;
    expect({ clustered: count("same-labels"), replicaLabel: count("replica-label"), noCluster: count("no-cluster") }).toEqual({ clustered: 1, replicaLabel: 2, noCluster: 2 });
  }, 120_000);
});
