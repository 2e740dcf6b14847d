// The daemon's scheduling, without daemons: cycles never overlap, triggers during a cycle become
// one follow-up cycle, an address change re-reads only the addresses, the filter seam decides
// what reaches the sink (the log sees every change), and stop() flushes the sink in time.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { configFromObject, type Config } from "../../agent/config";
import { Daemon, type EventSink } from "../../agent/daemon/daemon";
import type { StateEvent } from "../../agent/diff";
import { probeAddresses } from "../../agent/probes/addresses";
import type { NodeState } from "../../agent/state/node-state";
import { waitFor } from "../helpers/ports";

const LINE_A = "20010db8010000010000000000000010 02 40 00 80     eth0\n";
const LINE_B = "20010db8010000020000000000000010 02 40 00 80     eth0\n";

function baseState(ipv6: NodeState["ipv6"]): NodeState {
  return {
    agent: { version: "0.1.0" },
    collectedAt: new Date().toISOString(),
    host: { state: "ok", hostname: "node1", os: "Debian 12", kernel: "6.1", model: "pc", arch: "x64" },
    ipv6,
    tailnet: { state: "unavailable", code: "not-installed", error: "no socket", missingTags: ["tag:monitor"], policy: { state: "unavailable", code: "tailnet-unavailable", error: "tailscaled's status could not be read: no socket" } },
    services: {
      nodeExporter: { url: "http://127.0.0.1:9100/metrics", up: true, version: null, tailnetReachable: null },
      snmpd: { target: "127.0.0.1:161", up: true, sysDescr: null, sysUpTimeSeconds: null, tailnetReachable: null },
    },
    firewall: { state: "unavailable", code: "probe-error", error: "nft: permission denied" },
  };
}

interface Harness {
  daemon: Daemon;
  ifInet6: string;
  dir: string;
  sent: StateEvent[];
  flushed: number[];
  logs: { msg: string; event?: string; level?: number }[];
  collects: { concurrent: number; max: number; count: number };
  services: { snmpdUp: boolean };
  config: Config;
}

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    await h.daemon.stop(500);
    // stop() gives a running cycle only what its budget leaves; its textfile write must not race rmSync.
    await h.daemon.settled();
    rmSync(h.dir, { recursive: true, force: true });
  }
});

function harness(options: { collectMs?: number; filter?: (events: StateEvent[]) => StateEvent[]; flushMs?: number; heartbeat?: string; createSink?: () => EventSink } = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), "ea-daemon-unit-"));
  const ifInet6 = join(dir, "if_inet6");
  writeFileSync(ifInet6, LINE_A);
  const config: Config = configFromObject(
    { tailscale: { socket: join(dir, "no.sock") }, ipv6: { allocations: ["2001:db8:100::/56"] }, textfile: { directory: dir }, agentx: { enabled: false }, run: { interval: "1h", heartbeat: options.heartbeat ?? "1h" } },
    null,
  );
  const sent: StateEvent[] = [];
  const flushed: number[] = [];
  const logs: Harness["logs"] = [];
  const collects = { concurrent: 0, max: 0, count: 0 };
  const services = { snmpdUp: true };
  const sink: EventSink = {
    start: async () => undefined,
    notify: (event) => void sent.push(event),
    flush: async (ms) => {
      flushed.push(ms);
      await new Promise((r) => setTimeout(r, options.flushMs ?? 0));
    },
    close: async () => undefined,
    stats: () => ({ sent: sent.length, acknowledged: 0, queued: 0, dropped: 0, failed: 0 }),
  };
  const logger = pino({ level: "info" }, { write: (s: string) => void logs.push(JSON.parse(s)) });
  const daemon = new Daemon(config, logger, {
    createSink: options.createSink ?? (() => sink),
    ifInet6Path: ifInet6,
    addressPollMs: 50,
    // The firewall is part of the fixed snapshot: a local cycle re-reads only the addresses.
    collectLocal: async (c, prev) => ({ ...prev, collectedAt: new Date().toISOString(), ipv6: await probeAddresses(c.ipv6.allocations, ifInet6) }),
    filter: options.filter ? (events) => options.filter!(events) : undefined,
    // A service asked again (it went down) answers as the fixed snapshot does.
    askService: async (c, service) => ({ ...baseState({ state: "ok", prefixes: [], primary: null }).services[service], ...(service === "snmpd" ? { up: services.snmpdUp } : {}) }),
    // The address probe is the real one, reading the test's file; the rest is fixed.
    collect: async (c) => {
      collects.count++;
      collects.concurrent++;
      collects.max = Math.max(collects.max, collects.concurrent);
      await new Promise((r) => setTimeout(r, options.collectMs ?? 5));
      const state = baseState(await probeAddresses(c.ipv6.allocations, ifInet6));
      state.services.snmpd.up = services.snmpdUp;
      collects.concurrent--;
      return state;
    },
  });
  const h = { daemon, ifInet6, dir, sent, flushed, logs, collects, services, config };
  harnesses.push(h);
  return h;
}

describe("daemon scheduling", () => {
  it("never runs two cycles at once and folds triggers during a cycle into one", async () => {
    const h = harness({ collectMs: 100 });
    await h.daemon.start();
    const before = h.collects.count;
    for (let i = 0; i < 5; i++) h.daemon.requestCycle("full");
    await waitFor("the follow-up cycles", () => h.collects.count >= before + 1 && h.collects.concurrent === 0, 2000, 10);
    await h.daemon.settled();
    expect(h.collects.max).toBe(1);
    // One runs at once, the other four requests become one more.
    expect(h.collects.count - before).toBe(2);
  });

  it("re-reads only the addresses when they change, and reports it once", async () => {
    const h = harness();
    await h.daemon.start();
    const fullBefore = h.collects.count;
    writeFileSync(h.ifInet6, LINE_B);
    await waitFor("the addressChanged event", () => h.sent.find((e) => e.kind === "addressChanged"), 2000, 10);
    expect(h.collects.count).toBe(fullBefore);
    expect(h.daemon.state?.ipv6).toMatchObject({ primary: "2001:db8:100:2::/64" });
    await new Promise((r) => setTimeout(r, 200));
    expect(h.sent.map((e) => e.kind)).toEqual(["agentStarted", "addressChanged"]);
    expect(h.logs.filter((l) => l.event === "addressChanged")).toHaveLength(1);
  });

  it("passes events through the filter seam; the log still sees every change", async () => {
    const h = harness({ filter: (events) => events.filter((e) => e.kind !== "serviceDown") });
    await h.daemon.start();
    h.services.snmpdUp = false;
    h.daemon.requestCycle("full");
    await waitFor("the serviceDown log line", () => h.logs.find((l) => l.event === "serviceDown"), 2000, 10);
    expect(h.sent.map((e) => e.kind)).toEqual(["agentStarted"]);
  });

  it("warns at start of each source it cannot read, with the reason, and not again on later cycles", async () => {
    const h = harness();
    await h.daemon.start();
    h.daemon.requestCycle("full");
    await waitFor("a second full cycle", () => h.collects.count >= 2 && h.collects.concurrent === 0, 2000, 10);
    await h.daemon.settled();
    const warnings = h.logs.filter((l) => l.level === 40).map((l) => l.msg);
    expect(warnings).toEqual(["tailscaled unavailable: no socket", "firewall verdicts unavailable: nft: permission denied"]);
    // The start line comes first, then what it found missing.
    expect(h.logs.findIndex((l) => l.event === "agentStarted")).toBeLessThan(h.logs.findIndex((l) => l.level === 40));
  });

  it("sends a heartbeat every run.heartbeat with the last snapshot, without a probe cycle", async () => {
    const h = harness({ heartbeat: "200ms" });
    await h.daemon.start();
    const cycles = h.collects.count;
    await waitFor("two heartbeats", () => h.sent.filter((e) => e.kind === "heartbeat").length >= 2, 2000, 10);
    expect(h.collects.count).toBe(cycles);
    // Heartbeats are not state changes: no info line for them.
    expect(h.logs.filter((l) => l.event === "heartbeat")).toHaveLength(0);
  });

  it("a reload that changes notifications loses no event while the old notifier flushes", async () => {
    // Like the Notifier, these sinks refuse events before start(); the first flushes slowly.
    const got: { sink: number; kind: string }[] = [];
    let built = 0;
    const strictSink = (): EventSink => {
      const n = ++built;
      let started = false;
      return {
        start: async () => void (started = true),
        notify: (event) => {
          if (!started) throw new Error(`sink ${n} not started`);
          got.push({ sink: n, kind: event.kind });
        },
        flush: () => new Promise((r) => setTimeout(r, n === 1 ? 300 : 0)),
        close: async () => undefined,
        stats: () => ({ sent: 0, acknowledged: 0, queued: 0, dropped: 0, failed: 0 }),
      };
    };
    const h = harness({ createSink: strictSink });
    await h.daemon.start();
    const reloaded = h.daemon.reload({ ...h.config, notifications: { ...h.config.notifications, target: "127.0.0.1:1162" } });
    writeFileSync(h.ifInet6, LINE_B);
    await reloaded;
    await h.daemon.settled();
    expect(built).toBe(2);
    expect(got.filter((g) => g.kind === "addressChanged")).toEqual([{ sink: 1, kind: "addressChanged" }]);
    expect(h.logs.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
    // After the reload the new sink gets the events.
    writeFileSync(h.ifInet6, LINE_A);
    await waitFor("the next addressChanged", () => got.filter((g) => g.kind === "addressChanged").length === 2, 2000, 10);
    expect(got[got.length - 1]).toEqual({ sink: 2, kind: "addressChanged" });
  });

  it("stop() flushes the sink within its budget and runs no more cycles", async () => {
    const h = harness({ flushMs: 50 });
    await h.daemon.start();
    const t0 = Date.now();
    await h.daemon.stop(1000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(h.flushed).toHaveLength(1);
    expect(h.flushed[0]).toBeLessThanOrEqual(1000);
    const count = h.collects.count;
    h.daemon.requestCycle("full");
    writeFileSync(h.ifInet6, LINE_B);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.collects.count).toBe(count);
    expect(h.sent.map((e) => e.kind)).toEqual(["agentStarted"]);
  });
});
