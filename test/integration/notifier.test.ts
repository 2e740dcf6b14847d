// The notifier against Debian's snmptrapd with EDGE-AGENT-MIB loaded: every combination of
// v2c/v3, trap/inform and IPv4/IPv6 arrives by name with the right values; later v3 informs on
// one session are acknowledged (net-snmp's port bug); an unresolvable target queues and logs once.
// Sources in process: every version/transport/PDU combination of one module against snmptrapd;
// the packaged daemon's notifications are in daemon.test.ts and the lab.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { configFromObject, type Config } from "../../agent/config";
import type { StateEvent } from "../../agent/diff";
import { renderMib } from "../../agent/snmp/mib";
import { Notifier } from "../../agent/snmp/notifier";
import { describeWith } from "../helpers/prereqs";
import { freeUdpPort, waitFor } from "../helpers/ports";
import { sampleNodeState } from "../helpers/sample-node-state";
import { startSnmptrapd, type Snmptrapd } from "../helpers/snmptrapd";

const ENGINE_ID = "80001f8880e9630000d61ff449";
const USER = { name: "edgenotify", authProtocol: "sha512", authKey: "auth-secret-1", privProtocol: "aes", privKey: "priv-secret-1" };

let trapd: Snmptrapd;
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ea-outbox-"));
  dirs.push(dir);
  return dir;
}

function config(notifications: Record<string, unknown>): Config {
  return configFromObject({ notifications: { community: "edgetest", engineId: ENGINE_ID, user: USER, timeout: "400ms", retries: 1, outbox: tempDir(), ...notifications } }, null);
}

function captureLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const outboxFiles = (dir: string) => readdirSync(dir).filter((f) => /^n-\d+\.json$/.test(f));

describeWith({ binaries: ["snmptrapd"] }, "Notifier -> snmptrapd", () => {
  beforeAll(async () => {
    trapd = await startSnmptrapd({
      users: [
        { name: USER.name, auth: "SHA-512", authKey: USER.authKey, priv: "AES", privKey: USER.privKey, engineId: ENGINE_ID },
        { name: USER.name, auth: "SHA-512", authKey: USER.authKey, priv: "AES", privKey: USER.privKey },
        // Net-SNMP's names for AES-256 with Blumenthal and Reeder key extension.
        { name: "aes256b", auth: "SHA-512", authKey: USER.authKey, priv: "AES-256", privKey: USER.privKey },
        { name: "aes256r", auth: "SHA-384", authKey: USER.authKey, priv: "AES-256-C", privKey: USER.privKey },
      ],
    });
  });
  afterAll(async () => {
    await trapd?.stop();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  const cases = [
    { version: "2c", inform: false, host: "127.0.0.1" },
    { version: "2c", inform: false, host: "[::1]" },
    { version: "2c", inform: true, host: "127.0.0.1" },
    { version: "2c", inform: true, host: "[::1]" },
    { version: "3", inform: false, host: "127.0.0.1" },
    { version: "3", inform: false, host: "[::1]" },
    { version: "3", inform: true, host: "127.0.0.1" },
    { version: "3", inform: true, host: "[::1]" },
  ] as const;

  for (const c of cases) {
    const label = `v${c.version} ${c.inform ? "inform" : "trap"} over ${c.host.startsWith("[") ? "IPv6" : "IPv4"}`;
    it(`${label}: snmptrapd logs edgeAgentServiceDown by name with the node's values`, async () => {
      const hostname = `n-${c.version}-${c.inform ? "i" : "t"}-${c.host.startsWith("[") ? "6" : "4"}`;
      const cfg = config({ version: c.version, inform: c.inform, target: `${c.host}:${trapd.port}` });
      const notifier = new Notifier(cfg, captureLogger().logger, { backoffMs: 50 });
      await notifier.start();
      const event: StateEvent = { kind: "serviceDown", service: "snmpd", summary: "snmpd down: no answer" };
      notifier.notify(event, sampleNodeState({ hostname, snmpdUp: false }));
      const got = await waitFor(`${label} in snmptrapd's log`, () => trapd.received().find((n) => n.values.edgeAgentHostName === `STRING: ${hostname}`), 5000).catch((e) => {
        throw new Error(`${e.message}\n${trapd.output()}`);
      });
      await waitFor("the outbox to empty", () => notifier.stats().queued === 0, 3000);
      expect(got.name).toBe("EDGE-AGENT-MIB::edgeAgentServiceDown");
      expect(got.security).toMatch(new RegExp(`^${c.inform ? "INFORM" : "TRAP2"}, SNMP v${c.version}, ${c.version === "3" ? `user ${USER.name}` : "community edgetest"}`));
      expect(got.transport).toMatch(c.host.startsWith("[") ? /^UDP\/IPv6: \[::1\]/ : /^UDP: \[127\.0\.0\.1\]/);
      expect(got.values).toMatchObject({
        edgeAgentEventService: "INTEGER: snmpd(2)",
        edgeAgentSnmpdUp: "INTEGER: false(2)",
        edgeAgentNodeExporterUp: "INTEGER: true(1)",
        edgeAgentNotificationSequence: "Gauge32: 1",
        edgeAgentEventSummary: "STRING: snmpd down: no answer",
        edgeAgentTailnetName: `STRING: ${hostname}.tail1234.ts.net`,
        edgeAgentTailnetTags: "STRING: tag:monitor",
        edgeAgentPrimaryPrefix: "STRING: 2001:db8:100:1::/64",
        edgeAgentPrefixInAllocation: "INTEGER: inside(1)",
        edgeAgentScraperPath: "INTEGER: direct(1)",
        edgeAgentScraperFamily: "INTEGER: ipv6(1)",
        edgeAgentFirewallPort: "Gauge32: 41641",
        edgeAgentFirewallInboundIpv4: "INTEGER: drop(2)",
        edgeAgentFirewallInboundIpv6: "INTEGER: accept(1)",
        edgeAgentVersion: "STRING: 0.1.0",
      });
      expect(got.values.edgeAgentEventTime).toMatch(/^STRING: \d{4}-\d{1,2}-\d{1,2},\d{1,2}:\d{1,2}:\d{1,2}\.\d,\+0:0$/);
      expect(notifier.stats()).toEqual({ sent: 1, acknowledged: c.inform ? 1 : 0, queued: 0, dropped: 0, failed: 0 });
      expect(outboxFiles(cfg.notifications.outbox)).toEqual([]);
      await notifier.close();
    });
  }

  for (const [privProtocol, authProtocol] of [["aes256b", "sha512"], ["aes256r", "sha384"]] as const) {
    it(`v3 inform with ${authProtocol} and ${privProtocol} is acknowledged and logged by name`, async () => {
      const user = { name: privProtocol, authProtocol, authKey: USER.authKey, privProtocol, privKey: USER.privKey };
      const cfg = config({ version: "3", inform: true, target: `[::1]:${trapd.port}`, user });
      const notifier = new Notifier(cfg, captureLogger().logger, { backoffMs: 50 });
      await notifier.start();
      notifier.notify({ kind: "tailnetChanged", summary: "tags changed" }, sampleNodeState({ hostname: `n-${privProtocol}` }));
      await waitFor("the ack", () => notifier.stats().acknowledged === 1, 5000);
      await notifier.close();
      const got = trapd.received().find((n) => n.values.edgeAgentHostName === `STRING: n-${privProtocol}`);
      expect(got?.name).toBe("EDGE-AGENT-MIB::edgeAgentTailnetChanged");
      expect(got?.security).toMatch(new RegExp(`^INFORM, SNMP v3, user ${privProtocol}`));
    });
  }

  it("v3 informs after the first on one session are acknowledged too (net-snmp sends them to `port`, worked around)", async () => {
    const cfg = config({ version: "3", inform: true, target: `127.0.0.1:${trapd.port}` });
    const notifier = new Notifier(cfg, captureLogger().logger, { backoffMs: 50 });
    await notifier.start();
    const state = sampleNodeState({ hostname: "v3-repeat" });
    for (let i = 0; i < 4; i++) notifier.notify({ kind: "heartbeat", summary: `heartbeat ${i}` }, state);
    await waitFor("4 acknowledged informs", () => notifier.stats().acknowledged === 4, 5000).catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(notifier.stats())}`);
    });
    expect(notifier.stats().failed).toBe(0);
    const seen = trapd.received().filter((n) => n.values.edgeAgentHostName === "STRING: v3-repeat");
    expect(seen.map((n) => n.values.edgeAgentNotificationSequence)).toEqual(["Gauge32: 1", "Gauge32: 2", "Gauge32: 3", "Gauge32: 4"]);
    expect(seen.every((n) => n.name === "EDGE-AGENT-MIB::edgeAgentHeartbeat")).toBe(true);
    await notifier.close();
  });

  it("reaches the receiver by name (localhost) and numbers notifications across restarts", async () => {
    const outbox = tempDir();
    const cfg = config({ version: "2c", inform: true, target: `localhost:${trapd.port}`, outbox });
    for (const round of [1, 2]) {
      const notifier = new Notifier(cfg, captureLogger().logger, { backoffMs: 50 });
      await notifier.start();
      notifier.notify({ kind: "pathChanged", summary: `round ${round}` }, sampleNodeState({ hostname: "by-name" }));
      await waitFor("the ack", () => notifier.stats().acknowledged === 1, 5000);
      await notifier.close();
    }
    const seen = trapd.received().filter((n) => n.values.edgeAgentHostName === "STRING: by-name");
    expect(seen.map((n) => [n.values.edgeAgentNotificationSequence, n.values.edgeAgentEventSummary])).toEqual([
      ["Gauge32: 1", "STRING: round 1"],
      ["Gauge32: 2", "STRING: round 2"],
    ]);
  });

  it("a notification acknowledged but not yet removed when the agent died is resent with the same sequence and time", async () => {
    const outbox = tempDir();
    const cfg = config({ version: "2c", inform: true, target: `127.0.0.1:${trapd.port}`, outbox });
    const first = new Notifier(cfg, captureLogger().logger, { backoffMs: 50 });
    await first.start();
    first.notify({ kind: "firewallChanged", summary: "inbound-ipv4 drop" }, sampleNodeState({ hostname: "dup-node" }));
    // The crash window: the file as it was before the ack removed it.
    const saved = readFileSync(join(outbox, "n-0000000001.json"));
    await waitFor("the ack", () => first.stats().acknowledged === 1, 5000);
    await first.close();
    writeFileSync(join(outbox, "n-0000000001.json"), saved);

    const second = new Notifier(cfg, captureLogger().logger, { backoffMs: 50 });
    await second.start();
    second.notify({ kind: "firewallChanged", summary: "inbound-ipv4 accept" }, sampleNodeState({ hostname: "dup-node" }));
    await waitFor("both acks", () => second.stats().acknowledged === 2, 5000);
    await second.close();
    const seen = trapd.received().filter((n) => n.values.edgeAgentHostName === "STRING: dup-node");
    expect(seen.map((n) => n.values.edgeAgentNotificationSequence)).toEqual(["Gauge32: 1", "Gauge32: 1", "Gauge32: 2"]);
    expect(seen[1].values.edgeAgentEventTime).toBe(seen[0].values.edgeAgentEventTime);
    expect(seen[1].values.edgeAgentEventSummary).toBe("STRING: inbound-ipv4 drop");
  });

  it("re-rooted under an enterprise number (mib.baseOid), the notification is named by a receiver loading the re-rooted MIB", async () => {
    const base = "1.3.6.1.4.1.99999.1";
    const mibDir = tempDir();
    writeFileSync(join(mibDir, "EDGE-AGENT-MIB.txt"), renderMib(base));
    const rerooted = await startSnmptrapd({ mibDir });
    try {
      const cfg = configFromObject({ mib: { baseOid: base }, notifications: { community: "edgetest", inform: true, timeout: "400ms", retries: 1, outbox: tempDir(), target: `[::1]:${rerooted.port}` } }, null);
      const notifier = new Notifier(cfg, captureLogger().logger, { backoffMs: 50 });
      await notifier.start();
      notifier.notify({ kind: "serviceUp", service: "nodeExporter", summary: "node-exporter up" }, sampleNodeState({ hostname: "rerooted" }));
      await waitFor("the ack", () => notifier.stats().acknowledged === 1, 5000);
      await notifier.close();
      const [got] = rerooted.received();
      expect(got.name).toBe("EDGE-AGENT-MIB::edgeAgentServiceUp");
      expect(got.values).toMatchObject({ edgeAgentHostName: "STRING: rerooted", edgeAgentEventService: "INTEGER: nodeExporter(1)" });
      // A receiver with the default root cannot name them: the roots must agree.
      const mismatched = new Notifier({ ...cfg, notifications: { ...cfg.notifications, target: `127.0.0.1:${trapd.port}`, outbox: tempDir() } }, captureLogger().logger, { backoffMs: 50 });
      await mismatched.start();
      mismatched.notify({ kind: "serviceUp", service: "nodeExporter", summary: "node-exporter up" }, sampleNodeState({ hostname: "rerooted-mismatch" }));
      await waitFor("the ack", () => mismatched.stats().acknowledged === 1, 5000);
      await mismatched.close();
      const unnamed = await waitFor("the notification at the default-rooted snmptrapd", () => trapd.received().find((n) => n.values["enterprises.99999.1.1.1"] === 'STRING: "rerooted-mismatch"'), 3000).catch((e) => {
        throw new Error(`${e.message}\n${trapd.output().slice(-2000)}`);
      });
      expect(unnamed.name).toBe("SNMPv2-SMI::enterprises.99999.1.0.7");
    } finally {
      await rerooted.stop();
    }
  });

  it("a receiver outage is one warning, its end one info line, and the queue drains in order", async () => {
    const port = await freeUdpPort();
    const cfg = config({ version: "2c", inform: true, target: `127.0.0.1:${port}`, timeout: "150ms", retries: 0 });
    const { logger, lines } = captureLogger();
    const notifier = new Notifier(cfg, logger, { backoffMs: 50, maxBackoffMs: 100 });
    await notifier.start();
    for (let i = 1; i <= 3; i++) notifier.notify({ kind: "pathChanged", summary: `outage ${i}` }, sampleNodeState({ hostname: "outage-node" }));
    await waitFor("four failed attempts", () => notifier.stats().failed >= 4, 10_000);
    const late = await startSnmptrapd({ port });
    try {
      await waitFor("the queue to drain", () => notifier.stats().queued === 0, 10_000);
      await notifier.close();
      const warnings = lines.filter((l) => l.level === 40).map((l) => l.msg);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(new RegExp(`notifications queued: no acknowledgement from udp:127\\.0\\.0\\.1:${port}: .*retrying with backoff`));
      const infos = lines.filter((l) => l.level === 30).map((l) => l.msg);
      expect(infos.filter((m) => /again/.test(m))).toEqual([`notifications reach udp:127.0.0.1:${port} again (after: ${warnings[0].replace(/^notifications queued: /, "").replace(/; retrying.*$/, "")})`]);
      const seen = late.received().map((n) => n.values.edgeAgentEventSummary);
      expect(seen.filter((v, i) => seen.indexOf(v) === i)).toEqual(["STRING: outage 1", "STRING: outage 2", "STRING: outage 3"]);
    } finally {
      await late.stop();
    }
  });

  it("an unresolvable target queues notifications and logs the problem once, not once per retry", async () => {
    const cfg = config({ version: "2c", inform: true, target: "no-such-scraper.invalid:162" });
    const { logger, lines } = captureLogger();
    const notifier = new Notifier(cfg, logger, { backoffMs: 20, maxBackoffMs: 40 });
    await notifier.start();
    notifier.notify({ kind: "agentStarted", summary: "agent started" }, sampleNodeState());
    notifier.notify({ kind: "serviceDown", service: "nodeExporter", summary: "node-exporter down" }, sampleNodeState({ nodeExporterUp: false }));
    await waitFor("five failed attempts", () => notifier.stats().failed >= 5, 10_000);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/cannot resolve no-such-scraper\.invalid: ENOTFOUND/);
    expect(notifier.stats()).toMatchObject({ sent: 0, queued: 2, dropped: 0 });
    expect(outboxFiles(cfg.notifications.outbox)).toEqual(["n-0000000001.json", "n-0000000002.json"]);
    await notifier.close();
  });
});
