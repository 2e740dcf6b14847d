// Real Alertmanager: problem states from the fleet arrive as alerts (firewall drop, relayed
// path, service down, stale node) and are seen resolved once the node reports them cleared.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/prereqs";
import { freeTcpPort, waitFor } from "../helpers/ports";
import { startDaemon, type Daemon } from "../helpers/process";
import { COMMUNITY, edgeValues, snmptrap, snmptrapVarbindArgs, startTestReceiver, tree, type TestReceiver } from "./receiver-support";

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string };
  endsAt: string;
}

describeWith({ binaries: ["prometheus-alertmanager", "snmptrap"] }, "receiver with a real Alertmanager", () => {
  let am: Daemon;
  let amUrl: string;
  let dir: string;
  let r: TestReceiver;
  const send = (node: string, seq: number, overrides = {}, event: Parameters<typeof tree.notificationOid>[0] = "heartbeat") =>
    snmptrap(["-v2c", "-Ci", "-r", "0", "-c", COMMUNITY, `127.0.0.1:${r.port}`, "", tree.notificationOid(event), ...snmptrapVarbindArgs(edgeValues(node, seq, overrides))]);
  // active=true&silenced=false... returns only unresolved alerts; resolved ones drop out of the list.
  const alerts = async (): Promise<AmAlert[]> => (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as AmAlert[];
  const names = (list: AmAlert[]) => list.map((a) => [a.labels.alertname, a.labels.node, a.labels.check ?? a.labels.service ?? ""].join(" ").trim()).sort();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ea-alertmanager-"));
    const port = await freeTcpPort();
    amUrl = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, "alertmanager.yml"), "route: { receiver: blackhole, group_wait: 1s }\nreceivers: [{ name: blackhole }]\n");
    am = startDaemon("prometheus-alertmanager", [`--config.file=${join(dir, "alertmanager.yml")}`, `--storage.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address=", "--log.level=warn"]);
    await waitFor("alertmanager ready", async () => (await fetch(`${amUrl}/-/ready`)).ok, 30_000, 200).catch((e) => {
      throw new Error(`${(e as Error).message}\n${am.output()}`);
    });
    // A one-second heartbeat so staleness comes within the test: 3 missed heartbeats = 3 s.
    r = await startTestReceiver({ alertmanager: amUrl }, { alertResendMs: 1000, raw: { run: { heartbeat: "1s" } } });
  });
  afterAll(async () => {
    await r?.stop();
    await am?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("raises alerts for a firewall drop, a relayed path and a service down, with a fix hint", async () => {
    expect((await send("edge1", 1, { edgeAgentFirewallInboundIpv6: "drop", edgeAgentScraperPath: "relay", edgeAgentScraperEndpoint: "fra", edgeAgentSnmpdUp: false })).code).toBe(0);
    expect((await send("edge2", 1)).code).toBe(0);
    const firing = await waitFor("three alerts", async () => {
      const list = (await alerts()).filter((a) => a.labels.node === "edge1");
      return list.length === 3 ? list : null;
    }, 15_000, 200);
    expect(names(firing)).toEqual(["EdgeFirewallBlocksTailscale edge1 inbound-ipv6", "EdgeScraperPathRelayed edge1", "EdgeServiceDown edge1 snmpd"]);
    const fw = firing.find((a) => a.labels.alertname === "EdgeFirewallBlocksTailscale")!;
    expect(fw.status.state).toBe("active");
    expect(fw.annotations.summary).toBe("edge1: the firewall drops new inbound IPv6 UDP to tailscaled's port 41641");
    expect(fw.annotations.description).toContain("edge-agent firewall check");
    expect((await alerts()).some((a) => a.labels.node === "edge2" && a.labels.alertname !== "EdgeNodeStale")).toBe(false);
  });

  it("sees them resolved once the node reports the problems cleared", async () => {
    expect((await send("edge1", 2, {}, "firewallChanged")).code).toBe(0);
    await waitFor("edge1's alerts resolved", async () => (await alerts()).filter((a) => a.labels.node === "edge1" && a.labels.alertname !== "EdgeNodeStale").length === 0, 15_000, 200);
  });

  it("raises EdgeNodeStale when heartbeats stop, and resolves it when one arrives", async () => {
    const stale = await waitFor("edge2 stale", async () => (await alerts()).find((a) => a.labels.node === "edge2" && a.labels.alertname === "EdgeNodeStale"), 15_000, 200);
    expect(stale.labels.severity).toBe("critical");
    expect(stale.annotations.summary).toMatch(/^edge2: no notification for more than/);
    expect((await send("edge2", 2)).code).toBe(0);
    await waitFor("edge2 fresh again", async () => !(await alerts()).some((a) => a.labels.node === "edge2"), 15_000, 200);
  });
});
