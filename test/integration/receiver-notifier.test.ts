// The agent's own notifier (agent/snmp/notifier.ts, built on another branch) sends to the
// receiver: v2c informs and v3 authPriv traps and informs arrive, are acknowledged, and the
// node's state in the fleet matches the NodeState it was built from. Until the notifier is
// merged the module is absent: the suite says so (and fails under CI, where it must exist).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromObject } from "../../agent/config";
import type { NodeState } from "../../agent/state/node-state";
import { IN_CI } from "../helpers/prereqs";
import { waitFor } from "../helpers/ports";
import { COMMUNITY, V3_USER, startTestReceiver, type TestReceiver } from "./receiver-support";

const NOTIFIER = resolve(__dirname, "../../agent/snmp/notifier.ts");

interface NotifierLike {
  start(): Promise<void>;
  notify(event: { kind: string; summary: string; service?: string }, state: NodeState): void;
  flush(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
  stats(): { sent: number; acknowledged: number; queued: number; failed: number };
}

function nodeState(host: string, snmpdUp: boolean): NodeState {
  return {
    agent: { version: "0.1.0" },
    collectedAt: new Date().toISOString(),
    host: { state: "ok", hostname: host, os: "Debian GNU/Linux 12", kernel: "6.1.0", model: "test", arch: "x64" },
    ipv6: { state: "ok", prefixes: [{ prefix: "2001:db8:100:7::/64", interface: "eth0", addresses: [{ address: "2001:db8:100:7::10", prefixLength: 64, flags: ["permanent"] }], inAllocation: true }], primary: "2001:db8:100:7::/64" },
    tailnet: {
      state: "Running", source: "localapi", version: "1.90.6", hostname: host, dnsName: `${host}.example-tailnet.ts.net`,
      ips: ["127.0.0.1", "::1"], tags: ["tag:monitor"], missingTags: [], port: 41641, health: [],
      scraper: { found: true, hostname: "scraper", dnsName: "scraper.example-tailnet.ts.net", ips: ["100.64.0.1"], tags: ["tag:scraper"], online: true, path: "relay", endpoint: null, family: null, relay: "fra", latencyMs: 40 },
      policy: { state: "ok", source: "ipn-bus", flows: [{ id: "scrape-node-exporter", verdict: "accept", decidedBy: "rule 0" }, { id: "poll-snmpd", verdict: "accept", decidedBy: "rule 1" }] },
    },
    services: {
      nodeExporter: { url: "http://127.0.0.1:9100/metrics", up: true, version: "1.5.0", tailnetReachable: true },
      snmpd: { target: "127.0.0.1:161", up: snmpdUp, sysDescr: null, sysUpTimeSeconds: null, tailnetReachable: null },
    },
    firewall: { state: "ok", port: 41641, portSource: "localapi", notes: [], backend: "nftables", checks: [{ id: "inbound-ipv6", verdict: "drop", decidedBy: "test" }, { id: "inbound-ipv4", verdict: "accept", decidedBy: "test" }] },
  };
}

const suite = existsSync(NOTIFIER) ? describe : IN_CI ? describe : describe.skip;

suite(`Notifier -> receiver${existsSync(NOTIFIER) ? "" : " — skipped, agent/snmp/notifier.ts is not on this branch yet"}`, () => {
  let r: TestReceiver;
  const dirs: string[] = [];
  beforeAll(async () => {
    r = await startTestReceiver();
  });
  afterAll(async () => {
    await r?.stop();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  const make = async (notifications: Record<string, unknown>): Promise<NotifierLike> => {
    if (!existsSync(NOTIFIER)) throw new Error("agent/snmp/notifier.ts is missing: the receiver must be tested against the real notifier");
    const outbox = mkdtempSync(join(tmpdir(), "ea-rcv-outbox-"));
    dirs.push(outbox);
    const config = configFromObject({ notifications: { target: `127.0.0.1:${r.port}`, community: COMMUNITY, timeout: "1s", retries: 1, outbox, ...notifications } }, null);
    const { Notifier } = (await import(/* @vite-ignore */ NOTIFIER)) as { Notifier: new (c: unknown, l: unknown, o: unknown) => NotifierLike };
    return new Notifier(config, pino({ level: "silent" }), { backoffMs: 50 });
  };

  for (const variant of [
    { name: "v2c informs", notifications: { version: "2c", inform: true } },
    { name: "v3 authPriv informs", notifications: { version: "3", inform: true, user: V3_USER } },
    { name: "v3 authPriv traps from a fixed engine ID", notifications: { version: "3", inform: false, user: V3_USER, engineId: "80001f8880e9630000d61ff449" } },
  ]) {
    it(`takes ${variant.name} and keeps the node's state as the sender saw it`, async () => {
      const host = `nt-${variant.name.replace(/[^a-z0-9]+/g, "-").slice(0, 20)}`;
      const notifier = await make(variant.notifications);
      await notifier.start();
      notifier.notify({ kind: "agentStarted", summary: "started" }, nodeState(host, true));
      notifier.notify({ kind: "serviceDown", summary: "snmpd down", service: "snmpd" }, nodeState(host, false));
      await notifier.flush(5000);
      await notifier.close();
      const record = await waitFor(`${host} at its second notification`, () => {
        const rec = r.receiver.fleet.nodes.get(host);
        return rec && rec.lastEvent === "serviceDown" ? rec : null;
      });
      expect(record.values).toMatchObject({
        edgeAgentSnmpdUp: false, edgeAgentNodeExporterUp: true, edgeAgentScraperPath: "relay", edgeAgentScraperEndpoint: "fra",
        edgeAgentPrimaryPrefix: "2001:db8:100:7::/64", edgeAgentFirewallInboundIpv6: "drop", edgeAgentEventService: "snmpd",
      });
      expect(r.logs.filter((l) => l.node === host).map((l) => l.event)).toEqual(["agentStarted", "serviceDown"]);
    });
  }
});
