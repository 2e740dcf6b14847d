// Notifier bookkeeping with a receiver that never answers (a silent loopback port): sequence
// numbers, the outbox bound and how a drop is reported, and flush() giving up in time.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { configFromObject, ConfigError } from "../../agent/config";
import { Notifier } from "../../agent/snmp/notifier";
import { freeUdpPort } from "../helpers/ports";
import { sampleNodeState } from "../helpers/sample-node-state";

const dirs: string[] = [];
const notifiers: Notifier[] = [];
afterEach(async () => {
  for (const n of notifiers.splice(0)) await n.close();
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

async function silentNotifier(outboxMax: number) {
  const outbox = mkdtempSync(join(tmpdir(), "ea-notifier-unit-"));
  dirs.push(outbox);
  const config = configFromObject({ notifications: { target: `127.0.0.1:${await freeUdpPort()}`, community: "edgetest", inform: true, timeout: "100ms", retries: 0, outbox, outboxMax } }, null);
  const lines: Array<{ level: number; msg: string; dropped?: number }> = [];
  const notifier = new Notifier(config, pino({ level: "debug" }, { write: (l: string) => lines.push(JSON.parse(l)) }), { backoffMs: 60_000 });
  notifiers.push(notifier);
  return { notifier, outbox, lines };
}

const entries = (outbox: string) =>
  readdirSync(outbox)
    .filter((f) => f.startsWith("n-"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(outbox, f), "utf8")));

describe("Notifier", () => {
  it("refuses notify() before start()", async () => {
    const { notifier } = await silentNotifier(10);
    expect(() => notifier.notify({ kind: "heartbeat", summary: "x" }, sampleNodeState())).toThrow(/before start/);
  });

  it("after close() a notification is still persisted for the next start, not sent", async () => {
    const { notifier, outbox } = await silentNotifier(10);
    await notifier.start();
    await notifier.close();
    notifier.notify({ kind: "heartbeat", summary: "late" }, sampleNodeState());
    expect(entries(outbox).map((e) => e.event.summary)).toEqual(["late"]);
    expect(notifier.stats()).toMatchObject({ queued: 1, failed: 0, sent: 0 });
  });

  it("keeps every notification on disk with its sequence and the event's objects", async () => {
    const { notifier, outbox } = await silentNotifier(10);
    await notifier.start();
    notifier.notify({ kind: "serviceDown", service: "nodeExporter", summary: "node-exporter down" }, sampleNodeState({ nodeExporterUp: false }));
    notifier.notify({ kind: "serviceUp", service: "nodeExporter", summary: "node-exporter up" }, sampleNodeState());
    const [first, second] = entries(outbox);
    expect(first).toMatchObject({ sequence: 1, event: { kind: "serviceDown", service: "nodeExporter" } });
    expect(first.objects).toMatchObject({ edgeAgentNotificationSequence: 1, edgeAgentEventService: "nodeExporter", edgeAgentNodeExporterUp: false, edgeAgentHostName: "host1" });
    expect(second.objects).toMatchObject({ edgeAgentNotificationSequence: 2, edgeAgentNodeExporterUp: true, edgeAgentEventSummary: "node-exporter up" });
    expect(Date.parse(first.at)).toBeGreaterThan(Date.now() - 10_000);
  });

  it("past outboxMax drops the oldest, counts it, logs it and says so in the next notification", async () => {
    const { notifier, outbox, lines } = await silentNotifier(2);
    await notifier.start();
    for (let i = 1; i <= 4; i++) notifier.notify({ kind: "pathChanged", summary: `change ${i}` }, sampleNodeState());
    expect(notifier.stats()).toMatchObject({ queued: 2, dropped: 2 });
    const kept = entries(outbox);
    expect(kept.map((e) => e.sequence)).toEqual([3, 4]);
    expect(kept[0].objects.edgeAgentEventSummary).toBe("change 3");
    expect(kept[1].objects.edgeAgentEventSummary).toBe("change 4 [outbox full: 1 older notification dropped]");
    const warnings = lines.filter((l) => l.level === 40 && /outbox full/.test(l.msg));
    expect(warnings.map((w) => w.msg)).toEqual([
      "outbox full (notifications.outboxMax 2): dropped the 1 oldest undelivered notification",
      "outbox full (notifications.outboxMax 2): dropped the 1 oldest undelivered notification",
    ]);
  });

  it("flush() gives up on a silent receiver within its time and leaves the rest queued on disk", async () => {
    const { notifier, outbox } = await silentNotifier(10);
    await notifier.start();
    notifier.notify({ kind: "heartbeat", summary: "one" }, sampleNodeState());
    notifier.notify({ kind: "heartbeat", summary: "two" }, sampleNodeState());
    const started = Date.now();
    await notifier.flush(1000);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(notifier.stats()).toMatchObject({ sent: 0, queued: 2 });
    expect(notifier.stats().failed).toBeGreaterThanOrEqual(1);
    expect(entries(outbox)).toHaveLength(2);
  });

  it("an outbox it cannot write does not stop notifications: queued in memory, logged once", async () => {
    const base = mkdtempSync(join(tmpdir(), "ea-notifier-unit-"));
    dirs.push(base);
    writeFileSync(join(base, "file"), "not a directory");
    const config = configFromObject({ notifications: { target: `127.0.0.1:${await freeUdpPort()}`, community: "edgetest", timeout: "100ms", retries: 0, outbox: join(base, "file", "outbox") } }, null);
    const lines: Array<{ level: number; msg: string }> = [];
    const notifier = new Notifier(config, pino({ level: "debug" }, { write: (l: string) => lines.push(JSON.parse(l)) }), { backoffMs: 60_000 });
    notifiers.push(notifier);
    await notifier.start();
    for (let i = 0; i < 3; i++) notifier.notify({ kind: "heartbeat", summary: `beat ${i}` }, sampleNodeState());
    expect(notifier.stats().queued).toBe(3);
    const errors = lines.filter((l) => l.level === 50).map((l) => l.msg);
    expect(errors, JSON.stringify(errors, null, 1)).toHaveLength(2);
    expect(errors[0]).toMatch(/cannot use the outbox directory: .*ENOTDIR.*check notifications\.outbox/);
    expect(errors[1]).toMatch(/outbox: cannot write .*ENOTDIR.*kept in memory only/);
  });

  it("a target it cannot parse (a Config built in code) is a ConfigError naming that entry of notifications.targets", () => {
    const loaded = configFromObject({ notifications: { community: "x" } }, "/etc/edge-agent/config.yaml");
    const config = { ...loaded, notifications: { ...loaded.notifications, targets: ["scraper:162", "scraper:99999"] } };
    expect(() => new Notifier(config, pino({ level: "silent" }))).toThrow(ConfigError);
    expect(() => new Notifier(config, pino({ level: "silent" }))).toThrow(/notifications\.targets\[1\]/);
  });
});
