// `edge-agent receive` as a child process: its /metrics before any event (every counter at 0,
// process_* metrics, the build; promtool-clean), one JSON log line per notification, SIGHUP
// reloads the config (a bad one is logged and the old one kept), SIGTERM saves the fleet and
// exits 0, and a restart remembers the fleet.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { savedNodes } from "../../agent/receiver/fleet-file";
import { describeWith } from "../helpers/prereqs";
import { freeTcpPort, freeUdpPort, waitFor } from "../helpers/ports";
import type { Daemon } from "../helpers/process";
import { startUnit } from "../helpers/unit-exec";
import { edgeValues, metricsText, sample, snmptrap, snmptrapVarbindArgs, tree } from "./receiver-support";

describeWith({ binaries: ["snmptrap", "promtool"] }, "edge-agent receive (CLI)", () => {
  let dir: string;
  let port: number;
  let metricsPort: number;
  let configPath: string;
  let child: Daemon | null = null;
  const writeConfig = (communities: string[], extra = "") =>
    writeFileSync(
      configPath,
      [
        "receiver:",
        `  listen: ["udp:127.0.0.1:${port}"]`,
        `  communities: [${communities.join(", ")}]`,
        `  metrics: "127.0.0.1:${metricsPort}"`,
        `  fileSd: ${join(dir, "sd.yml")}`,
        `  state: ${join(dir, "fleet.json")}`,
        extra,
      ].join("\n"),
    );
  const lines = () => child!.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const start = async () => {
    child = startUnit(["receive", "--config", configPath], { unit: "edge-agent-receiver.service" });
    await waitFor("receiver started", () => lines().some((l) => l.msg === "receiver started"), 20_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${child!.output()}`);
    });
  };
  const exitCode = () => new Promise<number | null>((r) => (child!.child.exitCode !== null ? r(child!.child.exitCode) : child!.child.once("exit", (code) => r(code))));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ea-receive-cli-"));
    port = await freeUdpPort();
    metricsPort = await freeTcpPort();
    configPath = join(dir, "config.yaml");
    writeConfig(["first-community"]);
  });
  afterAll(async () => {
    await child?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a bad config with exit 2, naming the key", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "receiver:\n  listen: [\"udp:0.0.0.0\"]\n");
    const d = startUnit(["receive", "--config", bad], { unit: "edge-agent-receiver.service" });
    const code = await d.ended;
    expect(code).toBe(2);
    expect(d.output()).toContain("receiver.listen");
  });

  it("serves every counter from the start at 0, the process_* metrics and its build, promtool-clean", async () => {
    await start();
    const text = await metricsText(`http://127.0.0.1:${metricsPort}/metrics`);
    for (const series of [
      'edge_fleet_receiver_config_reloads_total{result="success"}',
      'edge_fleet_receiver_config_reloads_total{result="failure"}',
      'edge_fleet_receiver_write_failures_total{file="file_sd"}',
      'edge_fleet_receiver_notifications_received_total{version="2c",pdu="inform",mib="edge_agent"}',
      'edge_fleet_receiver_notifications_received_total{version="1",pdu="trap",mib="other"}',
      'edge_fleet_receiver_notifications_dropped_total{reason="unverified"}',
    ])
      expect(sample(text, series), series).toBe(0);
    expect(text).not.toContain('version="1",pdu="inform"');
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
    expect(sample(text, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(sample(text, "process_open_fds")).toBeGreaterThan(0);
    expect(Math.abs(sample(text, "process_start_time_seconds")! - Date.now() / 1000)).toBeLessThan(60);
    expect(text).toMatch(/^edge_fleet_build_info\{version="\d+\.\d+\.\d+[^"]*",nodejs_version="v\d+\.\d+\.\d+"\} 1$/m);
    expect(text).not.toMatch(/^edge_fleet_receiver_info/m);
    expect(execFileSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] }).trim()).toBe("");
    child!.child.kill("SIGTERM");
    expect(await exitCode()).toBe(0);
  });

  it("logs one JSON line per notification, reloads on SIGHUP, saves and exits 0 on SIGTERM", async () => {
    await start();
    const send = (community: string, seq: number) => snmptrap(["-v2c", "-Ci", "-r", "0", "-t", "2", "-c", community, `127.0.0.1:${port}`, "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(edgeValues("cli1", seq))]);
    expect((await send("first-community", 1)).code).toBe(0);
    expect((await send("second-community", 2)).code).not.toBe(0);

    // A broken config on SIGHUP: logged, the old one stays in force.
    writeFileSync(configPath, "receiver:\n  listen: nonsense\n");
    child!.child.kill("SIGHUP");
    await waitFor("reload failure logged", () => lines().some((l) => l.msg.startsWith("config reload failed")));
    expect((await send("first-community", 3)).code).toBe(0);
    // The default receiver.nodeSeries (problems): a healthy node has edge_fleet_node_up alone.
    await waitFor("cli1 at sequence 3", () => lines().some((l) => l.node === "cli1" && l.sequence === 3), 5000, 20);
    const healthy = await metricsText(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(sample(healthy, 'edge_fleet_node_up{node="cli1"}')).toBe(1);
    expect(sample(healthy, 'edge_fleet_node_last_sequence{node="cli1"}')).toBeNull();

    writeConfig(["first-community", "second-community"], "  nodeSeries: all");
    child!.child.kill("SIGHUP");
    await waitFor("reloaded", () => lines().some((l) => l.msg === "config reloaded"));
    expect((await send("second-community", 4)).code).toBe(0);
    // The receiver acknowledges before it logs, and pino writes asynchronously.
    await waitFor("the line for sequence 4", () => lines().some((l) => l.node === "cli1" && l.sequence === 4), 5000, 20);
    const perNotification = lines().filter((l) => l.node === "cli1");
    expect(perNotification.map((l) => l.sequence)).toEqual([1, 3, 4]);
    const counted = await metricsText(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(sample(counted, 'edge_fleet_receiver_config_reloads_total{result="failure"}')).toBe(1);
    // nodeSeries all after the reload: every series of every node, at once (not the cached text).
    expect(sample(counted, 'edge_fleet_node_last_sequence{node="cli1"}')).toBe(4);
    expect(sample(counted, 'edge_fleet_receiver_config_reloads_total{result="success"}')).toBe(1);
    expect(sample(counted, 'edge_fleet_receiver_notifications_received_total{version="2c",pdu="inform",mib="edge_agent"}')).toBe(3);

    child!.child.kill("SIGTERM");
    expect(await exitCode()).toBe(0);
    const saved = JSON.parse(readFileSync(join(dir, "fleet.json"), "utf8"));
    expect(saved.version).toBe(3);
    expect(savedNodes(saved).map((n) => [n?.node, n?.lastSequence])).toEqual([["cli1", 4]]);
    expect(readFileSync(join(dir, "sd.yml"), "utf8")).toContain("cli1:9100");
  });

  it("remembers the fleet across a restart: a replay of an old notification is a duplicate", async () => {
    await start();
    expect(lines().find((l) => l.msg === "fleet state loaded")).toMatchObject({ nodes: 1 });
    const text = await metricsText(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(sample(text, 'edge_fleet_node_up{node="cli1"}')).toBe(1);
    expect((await snmptrap(["-v2c", "-Ci", "-r", "0", "-c", "first-community", `127.0.0.1:${port}`, "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(edgeValues("cli1", 3, {}, new Date(Date.now() - 60_000)))])).code).toBe(0);
    await waitFor("duplicate counted", async () => sample(await metricsText(`http://127.0.0.1:${metricsPort}/metrics`), 'edge_fleet_receiver_notifications_dropped_total{reason="duplicate"}') === 1);
    child!.child.kill("SIGINT");
    expect(await exitCode()).toBe(0);
  });

  it("keeps a fleet saved by the previous release (state format version 2) after an upgrade", async () => {
    const at = Date.now() - 60_000;
    const v2 = {
      version: 2,
      objects: ["edgeAgentHostName", "edgeAgentTailnetName", "edgeAgentNotificationSequence", "edgeAgentEventTime", "edgeAgentEventSummary"],
      nodes: [{
        node: "old2", lastSeenMs: at, lastSequence: 9, lastEventMs: at, window: 1, lastEvent: "heartbeat", source: "127.0.0.1",
        lastHeartbeatEventMs: at, heartbeatGapsMs: [], values: ["old2", "old2.example-tailnet.ts.net", 9, new Date(at).toISOString(), "heartbeat"],
      }],
    };
    writeFileSync(join(dir, "fleet.json"), JSON.stringify(v2));
    await start();
    expect(lines().find((l) => l.msg === "fleet state loaded")).toMatchObject({ nodes: 1, skipped: 0 });
    const text = await metricsText(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(sample(text, 'edge_fleet_node_last_sequence{node="old2"}')).toBe(9);
    // Sequence 8 was seen (window bit 0): its replay is a duplicate, as before the upgrade.
    expect((await snmptrap(["-v2c", "-Ci", "-r", "0", "-c", "first-community", `127.0.0.1:${port}`, "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(edgeValues("old2", 8, {}, new Date(at - 60_000)))])).code).toBe(0);
    await waitFor("duplicate counted", async () => sample(await metricsText(`http://127.0.0.1:${metricsPort}/metrics`), 'edge_fleet_receiver_notifications_dropped_total{reason="duplicate"}') === 1);
    child!.child.kill("SIGTERM");
    expect(await exitCode()).toBe(0);
  });
});
