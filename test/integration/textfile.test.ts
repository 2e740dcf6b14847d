// The daemon's textfile through Debian's real prometheus-node-exporter: the edge_agent_* series
// are served on its /metrics with node_textfile_scrape_error 0, and change when the node does.
// A tailnet policy verdict that changes shows after the next cycle.
// A textfile directory that is missing at start (or on a read-only filesystem) is logged once,
// the other outputs go on, and the file appears once it can be written.
// Sources in process: the daemon is stepped cycle by cycle to compare each textfile with the
// node's state; the packaged daemon's textfile is checked in daemon.test.ts and the unit stage.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { configFromObject } from "../../agent/config";
import { Daemon, type EventSink } from "../../agent/daemon/daemon";
import { collectNodeState } from "../../agent/probes/collect";
import { TEXTFILE_NAME, TextfileWriter } from "../../agent/daemon/textfile";
import { startNodeExporter, type NodeExporter } from "../helpers/node-exporter";
import { waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { defaultScenario, seedFilterRules, startFakeTailscaled, type FakeTailscaled } from "../helpers/tailscaled";

/** A sink that keeps the events it is given: this test is about the textfile, not delivery. */
function keepingSink(): EventSink & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    start: async () => undefined,
    notify: (event) => void events.push(event.kind),
    flush: async () => undefined,
    close: async () => undefined,
    stats: () => ({ dropped: 0, targets: [{ target: "scraper:162", sent: events.length, acknowledged: 0, queued: 0, failed: 0 }] }),
  };
}

async function scrape(url: string): Promise<string> {
  return (await fetch(url)).text();
}

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describeWith({ binaries: ["prometheus-node-exporter"] }, "textfile metrics through the real node-exporter", () => {
  let base: string;
  let textDir: string;
  let exporter: NodeExporter;
  let tailscaled: FakeTailscaled;
  let daemon: Daemon;
  const sink = keepingSink();
  const logLines: { level: number; msg: string }[] = [];

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), "ea-textfile-it-"));
    textDir = join(base, "node-exporter");
    exporter = await startNodeExporter({ textfileDir: textDir });
    // Tailscale IP on loopback: the services' tailnet checks answer (or refuse) at once.
    tailscaled = await startFakeTailscaled({ ...defaultScenario(), selfIps: ["127.0.0.1"] });
    const config = configFromObject(
      {
        tailscale: { socket: tailscaled.socket },
        probes: { timeout: "3s", nodeExporter: { url: exporter.url } },
        textfile: { directory: textDir },
        agentx: { enabled: false },
        run: { interval: "1m", heartbeat: "1h" },
      },
      null,
    );
    const logger = pino({ level: "info" }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
    daemon = new Daemon(config, logger, { createSink: () => sink, collect: (c) => collectNodeState(c, { ping: true }), tailnetPollMs: 200 });
    // The directory does not exist yet: the first cycle cannot write.
    await daemon.start();
  });

  afterAll(async () => {
    await daemon?.stop(2000);
    await exporter?.stop();
    await tailscaled?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("goes on without the textfile directory, says so once, and writes when it appears", async () => {
    expect(sink.events).toContain("agentStarted");
    const errors = logLines.filter((l) => l.level === 50 && l.msg.includes("cannot write the textfile metrics"));
    expect(errors).toHaveLength(1);
    expect(errors[0].msg).toContain("does not exist");
    mkdirSync(textDir);
    daemon.requestCycle("full");
    await waitFor("node-exporter to serve edge_agent_build_info", async () => value(await scrape(exporter.url), `edge_agent_build_info{nodejs_version="${process.version}",version="0.1.0"}`) === 1, 10_000, 100);
    expect(logLines.filter((l) => l.msg.includes("cannot write the textfile metrics"))).toHaveLength(1);
  });

  it("serves the edge_agent_* series with node_textfile_scrape_error 0", async () => {
    const text = await scrape(exporter.url);
    expect(value(text, "node_textfile_scrape_error")).toBe(0);
    expect(value(text, 'edge_agent_tailnet_info{dns_name="node1.example-tailnet.ts.net",state="Running",tags="tag:monitor",version="1.90.6-tc0ffee-gdeadbeef"}')).toBe(1);
    expect(value(text, 'edge_agent_scraper_path{path="direct"}')).toBe(1);
    expect(value(text, "edge_agent_scraper_direct")).toBe(1);
    expect(value(text, 'edge_agent_service_up{service="node_exporter"}')).toBe(1);
    expect(value(text, "edge_agent_tailnet_missing_tags")).toBe(0);
    expect(value(text, 'edge_agent_events_total{kind="agentStarted"}')).toBe(1);
    expect(value(text, 'edge_agent_tailnet_policy_verdict{flow="scrape-node-exporter",verdict="accept"}')).toBe(1);
    expect(value(text, 'edge_agent_tailnet_policy_verdict{flow="poll-snmpd",verdict="accept"}')).toBe(1);
    expect(value(text, 'edge_agent_tailnet_policy_accepts{flow="scrape-node-exporter"}')).toBe(1);
    expect(value(text, "edge_agent_last_cycle_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 60);
    // node-exporter's own process metrics only: the textfile adds none.
    expect(text.split("\n").filter((l) => l.startsWith("process_cpu_seconds_total")).length).toBeLessThanOrEqual(1);
  });

  it("shows the tailnet policy dropping the scraper's 9100 after the next cycle", async () => {
    tailscaled.scenario.packetFilter = seedFilterRules(tailscaled.scenario).slice(1);
    daemon.requestCycle("full");
    await waitFor("the drop at node-exporter", async () => value(await scrape(exporter.url), 'edge_agent_tailnet_policy_verdict{flow="scrape-node-exporter",verdict="drop"}') === 1, 10_000, 100);
    const text = await scrape(exporter.url);
    expect(value(text, 'edge_agent_tailnet_policy_accepts{flow="scrape-node-exporter"}')).toBe(0);
    expect(value(text, 'edge_agent_tailnet_policy_verdict{flow="poll-snmpd",verdict="accept"}')).toBe(1);
    expect(sink.events).toContain("policyChanged");
    delete tailscaled.scenario.packetFilter;
  });

  it("follows a tailscaled change without waiting for the interval", async () => {
    tailscaled.scenario.selfTags = null;
    tailscaled.scenario.scraperPath = "relay";
    await waitFor("the new path at node-exporter", async () => value(await scrape(exporter.url), 'edge_agent_scraper_path{path="relay"}') === 1, 10_000, 100);
    const text = await scrape(exporter.url);
    expect(value(text, "edge_agent_tailnet_missing_tags")).toBe(1);
    expect(value(text, "edge_agent_scraper_direct")).toBe(0);
    // The path is a label of one series: the old path's series is gone, not 0.
    expect(text).not.toContain('edge_agent_scraper_path{path="direct"}');
    expect(value(text, "node_textfile_scrape_error")).toBe(0);
    expect(sink.events).toEqual(expect.arrayContaining(["tailnetChanged", "pathChanged"]));
  });
});

describeWith({ root: true }, "textfile directory on a read-only filesystem", () => {
  it("is logged once, retried, and written once the filesystem is writable again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ea-textfile-ro-"));
    const lines: { level: number; msg: string }[] = [];
    const writer = new TextfileWriter(dir, pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) }));
    execFileSync("mount", ["--bind", dir, dir]);
    try {
      execFileSync("mount", ["-o", "remount,bind,ro", dir]);
      for (let i = 0; i < 3; i++) expect(await writer.write("edge_agent_info 1\n")).toBe(false);
      const errors = lines.filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0].msg).toContain("read-only filesystem");
      execFileSync("mount", ["-o", "remount,bind,rw", dir]);
      expect(await writer.write("edge_agent_info 1\n")).toBe(true);
      expect(readFileSync(join(dir, TEXTFILE_NAME), "utf8")).toBe("edge_agent_info 1\n");
      expect(lines.filter((l) => l.msg.includes("written again"))).toHaveLength(1);
    } finally {
      execFileSync("umount", [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
