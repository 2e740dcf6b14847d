// The textfile metrics: what a NodeState renders to, that promtool accepts it, and that the
// writer replaces the file atomically, readable by node-exporter's user, and survives a missing
// directory (logged once, retried, recovered).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { NodeMetrics } from "../../agent/metrics-node";
import type { NodeState } from "../../agent/state/node-state";
import { TextfileWriter, TEXTFILE_NAME } from "../../agent/daemon/textfile";
import { describeWith } from "../helpers/prereqs";

function sampleState(): NodeState {
  return {
    agent: { version: "0.1.0" },
    collectedAt: "2026-11-28T12:00:00.000Z",
    host: { state: "ok", hostname: "node1", os: "Debian 12", kernel: "6.1.0", model: "Raspberry Pi 4", arch: "arm64" },
    ipv6: {
      state: "ok",
      primary: "2001:db8:100:1::/64",
      prefixes: [
        { prefix: "2001:db8:100:1::/64", interface: "eth0", inAllocation: true, addresses: [{ address: "2001:db8:100:1::10", prefixLength: 64, flags: ["permanent"] }] },
        { prefix: "2001:db8:999:1::/64", interface: "wlan0", inAllocation: false, addresses: [{ address: "2001:db8:999:1::7", prefixLength: 64, flags: [] }] },
      ],
    },
    tailnet: {
      state: "Running", source: "localapi", version: "1.90.6", hostname: "node1", dnsName: "node1.example-tailnet.ts.net",
      ips: ["100.101.102.103"], tags: ["tag:iot"], missingTags: ["tag:monitor"], port: 41641, health: [],
      scraper: { found: true, hostname: "scraper", dnsName: "scraper.example-tailnet.ts.net.", ips: ["100.64.0.1"], tags: ["tag:scraper"], online: true, path: "relay", endpoint: null, family: null, relay: "fra", latencyMs: 45.6 },
      policy: { state: "ok", source: "ipn-bus", flows: [{ id: "scrape-node-exporter", verdict: "drop", decidedBy: "default deny: no rule of 2 admits tcp/9100 from 100.64.0.1 to 100.101.102.103" }, { id: "poll-snmpd", verdict: "unknown", decidedBy: "localapi-permission", reason: "x" }] },
    },
    services: {
      nodeExporter: { url: "http://127.0.0.1:9100/metrics", up: true, version: "1.5.0", tailnetReachable: false },
      snmpd: { target: "127.0.0.1:161", up: false, sysDescr: null, sysUpTimeSeconds: null, tailnetReachable: null, error: "timeout" },
    },
    firewall: { state: "ok", port: 41641, portSource: "localapi", notes: [], backend: "nftables", checks: [{ id: "inbound-ipv6", verdict: "accept", decidedBy: "rule 4" }, { id: "inbound-ipv4", verdict: "drop", decidedBy: "policy" }, { id: "outbound-ipv6", verdict: "unknown", decidedBy: "set lookup" }] },
  };
}

const scraperA = { target: "scraper-a:162", sent: 3, acknowledged: 2, queued: 1, failed: 1 };
const scraperB = { target: "scraper-b:162", sent: 1, acknowledged: 1, queued: 3, failed: 4 };
const sink = { dropped: 2, targets: [scraperA, scraperB] };

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function render(state: NodeState, metrics = new NodeMetrics()): Promise<string> {
  metrics.update({ state, cycleEndedAtMs: 1_764_331_200_000, cycleDurationMs: 250, sink, agentxRegistered: true });
  return metrics.render();
}

describe("textfile metrics", () => {
  it("renders the node's facts as edge_agent_* series in base units", async () => {
    const text = await render(sampleState());
    expect(sample(text, `edge_agent_build_info{version="0.1.0",nodejs_version="${process.version}"}`)).toBe(1);
    expect(sample(text, 'edge_agent_ipv6_prefix_info{prefix="2001:db8:100:1::/64",interface="eth0",in_allocation="true",primary="true"}')).toBe(1);
    expect(sample(text, 'edge_agent_ipv6_prefix_info{prefix="2001:db8:999:1::/64",interface="wlan0",in_allocation="false",primary="false"}')).toBe(1);
    expect(sample(text, "edge_agent_ipv6_global_prefixes")).toBe(2);
    expect(sample(text, "edge_agent_ipv6_primary_in_allocation")).toBe(1);
    expect(sample(text, 'edge_agent_tailnet_info{state="Running",dns_name="node1.example-tailnet.ts.net",tags="tag:iot",version="1.90.6"}')).toBe(1);
    expect(sample(text, "edge_agent_tailnet_missing_tags")).toBe(1);
    // One series per fact, its value in a label (the receiver's convention too): no zeros for the
    // paths and verdicts the node does not have.
    expect(text.match(/^edge_agent_scraper_path\{.*$/gm)).toEqual(['edge_agent_scraper_path{path="relay"} 1']);
    expect(sample(text, "edge_agent_scraper_direct")).toBe(0);
    expect(sample(text, "edge_agent_scraper_latency_seconds")).toBeCloseTo(0.0456);
    expect(sample(text, 'edge_agent_service_up{service="node_exporter"}')).toBe(1);
    expect(sample(text, 'edge_agent_service_up{service="snmpd"}')).toBe(0);
    expect(sample(text, 'edge_agent_service_tailnet_reachable{service="node_exporter"}')).toBe(0);
    expect(text).not.toContain('edge_agent_service_tailnet_reachable{service="snmpd"}');
    expect(text.match(/^edge_agent_firewall_verdict\{.*$/gm)).toEqual([
      'edge_agent_firewall_verdict{check="inbound-ipv6",verdict="accept"} 1',
      'edge_agent_firewall_verdict{check="inbound-ipv4",verdict="drop"} 1',
      'edge_agent_firewall_verdict{check="outbound-ipv6",verdict="unknown"} 1',
    ]);
    expect(sample(text, 'edge_agent_firewall_accepts{check="inbound-ipv6"}')).toBe(1);
    expect(sample(text, 'edge_agent_firewall_accepts{check="inbound-ipv4"}')).toBe(0);
    expect(text).not.toContain('edge_agent_firewall_accepts{check="outbound-ipv6"}');
    expect(sample(text, "edge_agent_last_cycle_timestamp_seconds")).toBe(1_764_331_200);
    expect(sample(text, "edge_agent_cycle_duration_seconds")).toBe(0.25);
    // Each target its own series; the outbox's drops are one count for all of them.
    expect(sample(text, 'edge_agent_notifications_sent_total{target="scraper-a:162"}')).toBe(3);
    expect(sample(text, 'edge_agent_notifications_acknowledged_total{target="scraper-a:162"}')).toBe(2);
    expect(sample(text, 'edge_agent_notifications_failed_total{target="scraper-a:162"}')).toBe(1);
    expect(sample(text, 'edge_agent_notifications_queued{target="scraper-a:162"}')).toBe(1);
    expect(sample(text, 'edge_agent_notifications_sent_total{target="scraper-b:162"}')).toBe(1);
    expect(sample(text, 'edge_agent_notifications_failed_total{target="scraper-b:162"}')).toBe(4);
    expect(sample(text, 'edge_agent_notifications_queued{target="scraper-b:162"}')).toBe(3);
    expect(sample(text, "edge_agent_notifications_dropped_total")).toBe(2);
    expect(sample(text, "edge_agent_agentx_registered")).toBe(1);
    expect(sample(text, 'edge_agent_events_total{kind="addressChanged"}')).toBe(0);
    // prom-client's default process metrics never reach the file: node-exporter has its own.
    expect(text).not.toMatch(/^process_|^nodejs_/m);
  });

  it("leaves unknown values out instead of writing a misleading 0", async () => {
    const state = sampleState();
    state.ipv6 = { state: "unavailable", code: "ipv6-disabled", error: "no /proc/net/if_inet6" };
    state.tailnet = { state: "unavailable", code: "not-installed", error: "no socket", missingTags: ["tag:monitor"], policy: { state: "unavailable", code: "tailnet-unavailable", error: "tailscaled's status could not be read: no socket" } };
    state.firewall = { state: "unavailable", code: "probe-error", error: "nft: permission denied" };
    const metrics = new NodeMetrics();
    await render(sampleState(), metrics);
    const text = await render(state, metrics);
    expect(text).not.toMatch(/^edge_agent_ipv6_primary_in_allocation /m);
    expect(text).not.toMatch(/^edge_agent_tailnet_udp_port /m);
    expect(text).not.toMatch(/^edge_agent_scraper_latency_seconds /m);
    expect(text).not.toMatch(/^edge_agent_firewall_udp_port /m);
    expect(text).not.toContain("edge_agent_ipv6_prefix_info{");
    expect(sample(text, 'edge_agent_probe_up{probe="ipv6"}')).toBe(0);
    expect(sample(text, 'edge_agent_tailnet_info{state="unavailable",dns_name="",tags="",version=""}')).toBe(1);
    expect(sample(text, 'edge_agent_scraper_path{path="unknown"}')).toBe(1);
  });

  it("keeps counters growing when the notifier is replaced by a reload", async () => {
    const metrics = new NodeMetrics();
    const state = sampleState();
    metrics.update({ state, cycleEndedAtMs: 0, cycleDurationMs: 1, sink: { dropped: 0, targets: [{ ...scraperA, sent: 10 }, { ...scraperB, sent: 5 }] }, agentxRegistered: null });
    metrics.update({ state, cycleEndedAtMs: 0, cycleDurationMs: 1, sink: { dropped: 0, targets: [{ ...scraperA, sent: 11 }, { ...scraperB, sent: 5 }] }, agentxRegistered: null });
    metrics.sinkReplaced();
    metrics.update({ state, cycleEndedAtMs: 0, cycleDurationMs: 1, sink: { dropped: 0, targets: [{ ...scraperA, sent: 2 }, { ...scraperB, sent: 1 }] }, agentxRegistered: null });
    const text = await metrics.render();
    expect(sample(text, 'edge_agent_notifications_sent_total{target="scraper-a:162"}')).toBe(13);
    expect(sample(text, 'edge_agent_notifications_sent_total{target="scraper-b:162"}')).toBe(6);
    expect(text).not.toMatch(/^edge_agent_agentx_registered /m);
  });

});

describeWith({ binaries: ["promtool"] }, "textfile metrics under promtool", () => {
  it("passes promtool check metrics, before and after the first event", async () => {
    const metrics = new NodeMetrics();
    const before = await render(sampleState(), metrics);
    expect(execFileSync("promtool", ["check", "metrics"], { input: before, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] }).trim()).toBe("");
    metrics.countEvent("addressChanged");
    const text = await render(sampleState(), metrics);
    expect(sample(text, 'edge_agent_events_total{kind="addressChanged"}')).toBe(1);
    // promtool prints lint problems and exits non-zero on any.
    const out = execFileSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    expect(out.trim()).toBe("");
  });
});

describe("textfile writer", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  function capture() {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    return { logger, lines };
  }

  it("replaces edge_agent.prom atomically with mode 0644 whatever the umask", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ea-textfile-"));
    dirs.push(dir);
    const { logger } = capture();
    const writer = new TextfileWriter(dir, logger);
    const old = process.umask(0o077);
    try {
      expect(await writer.write("edge_agent_info 1\n")).toBe(true);
      expect(await writer.write("edge_agent_info 2\n")).toBe(true);
    } finally {
      process.umask(old);
    }
    expect(readFileSync(join(dir, TEXTFILE_NAME), "utf8")).toBe("edge_agent_info 2\n");
    expect(statSync(join(dir, TEXTFILE_NAME)).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual([TEXTFILE_NAME]);
  });

  it("logs a missing directory once, keeps retrying, and says when it works again", async () => {
    const base = mkdtempSync(join(tmpdir(), "ea-textfile-"));
    dirs.push(base);
    const dir = join(base, "not-yet");
    const { logger, lines } = capture();
    const writer = new TextfileWriter(dir, logger);
    for (let i = 0; i < 3; i++) expect(await writer.write("edge_agent_info 1\n")).toBe(false);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0].msg).toContain(`the directory ${dir} does not exist`);
    mkdirSync(dir);
    expect(await writer.write("edge_agent_info 1\n")).toBe(true);
    expect(lines.filter((l) => l.level === 30 && l.msg.includes("written again"))).toHaveLength(1);
    expect(readFileSync(join(dir, TEXTFILE_NAME), "utf8")).toBe("edge_agent_info 1\n");
  });
});
