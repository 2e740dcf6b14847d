import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FleetState } from "../../agent/receiver/fleet-state";
import { FleetStore, savePeriodMs } from "../../agent/receiver/fleet-store";
import type { ObjectValues } from "../../agent/snmp/state-objects";
import { notificationValues } from "../helpers/notification-values";

const T0 = Date.parse("2026-11-28T12:00:00Z");
const MIN = 60_000;
const log = pino({ level: "silent" });
const dirs: string[] = [];

const values = (node: string, sequence: number, atMs: number): ObjectValues =>
  notificationValues(node, sequence, atMs, { edgeAgentNodeExporterUp: true, edgeAgentFirewallPort: 41641, edgeAgentFirewallInboundIpv6: "accept" });

const fleet = () => new FleetState({ defaultHeartbeatMs: 5 * MIN, staleAfterHeartbeats: 3, forgetAfterMs: 7 * 24 * 60 * MIN, maxNodes: 10_000 }, T0);

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ea-fleet-store-"));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("FleetStore", () => {
  it("writes the fleet in pieces in the background, and a restart reads back every node with its history", async () => {
    const path = join(tempDir(), "fleet.json");
    const f = fleet();
    for (let i = 0; i < 2500; i++) f.apply(values(`n${i}`, 7, T0), "heartbeat", T0, `100.64.${i >> 8}.${i & 255}`);
    f.apply(values("n1", 8, T0 + 5 * MIN), "heartbeat", T0 + 5 * MIN, "100.64.0.1");
    const store = new FleetStore(path, f, log, 0);
    store.changed();
    await new Promise((r) => setTimeout(r, 50));
    await store.flush();
    expect(store.writes).toBe(1);
    expect(readdirSync(join(path, ".."))).toEqual(["fleet.json"]);

    const g = fleet();
    new FleetStore(path, g, log).load();
    expect(g.nodes.size).toBe(2500);
    expect(g.nodes.get("n1")).toMatchObject({ lastSequence: 8, lastSummary: "event 8", heartbeatGapsMs: [5 * MIN], source: "100.64.0.1" });
    expect(g.nodes.get("n2499")!.values).toEqual(values("n2499", 7, T0));
    expect(g.apply(values("n1", 7, T0), "heartbeat", T0 + 6 * MIN, "100.64.0.1").kind).toBe("duplicate");
    expect(g.nodeAt("100.64.9.195")).toBe("n2499");
    // Object names are written once, not once per node.
    const saved = readFileSync(path, "utf8");
    expect(saved.split('"edgeAgentHostName"').length - 1).toBe(1);
  });

  it("loads a version 1 file, so a receiver upgraded in place keeps its fleet", () => {
    const path = join(tempDir(), "fleet.json");
    const v1 = { version: 1, nodes: [{ node: "old1", values: values("old1", 3, T0), lastSeenMs: T0, lastSequence: 3, lastEventMs: T0, window: 3, lastEvent: "heartbeat", lastSummary: "event 3", source: "100.64.0.9", lastHeartbeatEventMs: T0, heartbeatGapsMs: [MIN], stale: false }] };
    writeFileSync(path, JSON.stringify(v1));
    const g = fleet();
    new FleetStore(path, g, log).load();
    expect(g.nodes.get("old1")).toMatchObject({ values: values("old1", 3, T0), lastSequence: 3, window: 3, heartbeatGapsMs: [MIN], source: "100.64.0.9" });
    expect(g.apply(values("old1", 2, T0 - MIN), "heartbeat", T0 + MIN, "100.64.0.9").kind).toBe("duplicate");
    // The next save is in the compact form, and it reads back the same.
    new FleetStore(path, g, log).save();
    const saved = JSON.parse(readFileSync(path, "utf8"));
    expect(saved.version).toBe(3);
    expect(saved.nodes.map((r: unknown[]) => r[saved.fields.indexOf("node")])).toEqual(["old1"]);
    const h = fleet();
    new FleetStore(path, h, log).load();
    expect(h.nodes.get("old1")!.values).toEqual(values("old1", 3, T0));
  });

  it("moves a file it cannot read aside, starts empty, and the next save writes a good one", () => {
    const dir = tempDir();
    const path = join(dir, "fleet.json");
    const f = fleet();
    f.apply(values("n1", 1, T0), "heartbeat", T0, "100.64.0.1");
    new FleetStore(path, f, log).save();
    const whole = readFileSync(path, "utf8");
    // Cut short, as a disk that lost the end of the file would leave it.
    writeFileSync(path, whole.slice(0, whole.length / 2));
    const g = fleet();
    const store = new FleetStore(path, g, log);
    store.load();
    expect(g.nodes.size).toBe(0);
    const names = readdirSync(dir);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^fleet\.json\.corrupt-\d+$/);
    g.apply(values("n2", 1, T0), "heartbeat", T0, "100.64.0.2");
    store.save();
    const h = fleet();
    new FleetStore(path, h, log).load();
    expect([...h.nodes.keys()]).toEqual(["n2"]);
  });
});

describe("save period", () => {
  it("is the debounce for a small fleet, and grows with a large one up to a minute", () => {
    expect(savePeriodMs(2000, 100)).toBe(2000);
    expect(savePeriodMs(2000, 10_000)).toBe(6000);
    expect(savePeriodMs(2000, 100_000)).toBe(60_000);
    expect(savePeriodMs(2000, 1_000_000)).toBe(60_000);
  });
});
