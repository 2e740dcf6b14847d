// The daemon's budget, measured side by side in one run (DESIGN.md: idle RSS within 1.25x of a
// bare `node -e`, CPU per probe cycle under 30 ms, memory flat over 10,000 cycles):
//  1. idle RSS of `edge-agent run` (the esbuild bundle the packages ship, AgentX registered with
//     a real snmpd, the fake LocalAPI) next to `node -e 'setInterval(()=>{},1e9)'`;
//  2. CPU per full probe cycle in process (real probes against real snmpd and node-exporter and
//     the fake LocalAPI, all on loopback), and what one cycle's outputs cost on their own;
//  3. heap and RSS over 10,000 cycles whose snapshots alternate, so every cycle has events,
//     log lines, a textfile write and AgentX updates.
// Usage: node --expose-gc -r tsx/cjs scripts/bench/daemon.ts   (root not needed)
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pino from "pino";
import { configFromObject } from "../../agent/config";
import { Daemon, type EventSink } from "../../agent/daemon";
import { collectNodeState } from "../../agent/probes/collect";
import { probeHost } from "../../agent/probes/host";
import type { NodeState } from "../../agent/state";
import { startNodeExporter } from "../../test/helpers/node-exporter";
import { freeTcpPort, freeUdpPort, waitFor } from "../../test/helpers/ports";
import { startSnmpd } from "../../test/helpers/snmpd";
import { emitBenchResult } from "./report";

const REPO = resolve(__dirname, "../..");
const CYCLES_CPU = 200;
const CYCLES_MEMORY = 10_000;

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.replace(/\D+/g, "")) / 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function countingSink(): EventSink {
  let sent = 0;
  return { start: async () => undefined, notify: () => void sent++, flush: async () => undefined, close: async () => undefined, stats: () => ({ sent, acknowledged: 0, queued: 0, dropped: 0, failed: 0 }) };
}

async function untilCycle(daemon: Daemon, kind: "full"): Promise<void> {
  daemon.requestCycle(kind);
  await daemon.settled();
}

/** The fake LocalAPI in a process of its own, so its CPU is not counted as the agent's. */
async function fakeTailscaledProcess(work: string): Promise<{ socket: string; setScenario: (patch: object) => void; stop: () => void }> {
  const socket = join(work, "tailscaled.sock");
  const code = `const t=require(${JSON.stringify(join(REPO, "test/helpers/tailscaled.ts"))});t.startFakeTailscaled({...t.defaultScenario(),selfIps:["127.0.0.1"]},${JSON.stringify(socket)}).then(f=>{process.stdout.write("ready\\n");process.stdin.on("data",d=>Object.assign(f.scenario,JSON.parse(String(d))))})`;
  const child = spawn(process.execPath, ["-r", "tsx/cjs", "-e", code], { cwd: REPO, stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
  return { socket, setScenario: (patch) => child.stdin!.write(JSON.stringify(patch)), stop: () => child.kill() };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "ea-bench-daemon-"));
  const tailscaled = await fakeTailscaledProcess(work);
  const agentxPort = await freeTcpPort();
  const snmpd = await startSnmpd({ extra: ["master agentx", `agentXSocket tcp:127.0.0.1:${agentxPort}`] });
  const exporter = await startNodeExporter({ textfileDir: work });
  const trapPort = await freeUdpPort();
  const raw = {
    tailscale: { socket: tailscaled.socket },
    probes: { timeout: "1s", nodeExporter: { url: exporter.url }, snmpd: { port: snmpd.port, community: "edgetest" } },
    notifications: { target: `127.0.0.1:${trapPort}`, inform: false, outbox: join(work, "outbox") },
    textfile: { directory: work },
    agentx: { master: `tcp:127.0.0.1:${agentxPort}` },
    run: { interval: "30s", heartbeat: "5m" },
  };
  const children: { kill: () => void }[] = [];
  try {
    // ---- 1. idle RSS, bundle vs bare node ------------------------------------------------
    const bundle = join(work, "edge-agent.js");
    execFileSync(join(REPO, "node_modules/.bin/esbuild"), [join(REPO, "agent/main.ts"), "--bundle", "--platform=node", "--target=node18", `--outfile=${bundle}`, "--log-level=error"]);
    const configFile = join(work, "config.yaml");
    writeFileSync(configFile, JSON.stringify(raw));
    const bare = spawn(process.execPath, ["-e", "setInterval(()=>{},1e9)"], { stdio: "ignore" });
    const agent = spawn(process.execPath, [bundle, "run", "--config", configFile], { stdio: ["ignore", "ignore", "inherit"] });
    children.push(bare, agent);
    await waitFor("the agent's first textfile", () => readFileSync(join(work, "edge_agent.prom"), "utf8").includes("edge_agent_agentx_registered 1") || null, 30_000, 200).catch(() => undefined);
    await sleep(5000);
    const bareRss: number[] = [];
    const agentRss: number[] = [];
    for (let i = 0; i < 10; i++) {
      bareRss.push(rssMiB(bare.pid!));
      agentRss.push(rssMiB(agent.pid!));
      await sleep(500);
    }
    const idle = { bare: median(bareRss), agent: median(agentRss) };
    bare.kill();
    agent.kill("SIGTERM");
    // What the agent's RSS is made of: bare node loading only the runtime libraries, all and each.
    const LIBS = ["net-snmp", "prom-client", "pino", "yaml", "ipaddr.js"];
    const loadRss = async (mods: string[]): Promise<number> => {
      const code = `for (const m of ${JSON.stringify(mods)}) require(require.resolve(m,{paths:[${JSON.stringify(REPO)}]})); setInterval(()=>{},1e9)`;
      const child = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
      children.push(child);
      await sleep(1500);
      const v = rssMiB(child.pid!);
      child.kill();
      return v;
    };
    const libsRss = await loadRss(LIBS);
    const perLib: [string, number][] = [];
    for (const lib of LIBS) perLib.push([lib, (await loadRss([lib])) - idle.bare]);

    // ---- 2. CPU per probe cycle, in process -----------------------------------------------
    const config = configFromObject(raw, null);
    const logger = pino({ level: "info" }, pino.destination("/dev/null"));
    // The daemon's own collect: every probe, the host's os-release/DMI reads included, every cycle.
    const daemon = new Daemon(config, logger, { createSink: () => countingSink() });
    await daemon.start();
    await waitFor("AgentX registration", () => readFileSync(join(work, "edge_agent.prom"), "utf8").includes("edge_agent_agentx_registered 1") || (daemon.requestCycle("full"), null), 10_000, 300).catch(() => undefined);
    for (let i = 0; i < 10; i++) await untilCycle(daemon, "full"); // warm-up
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let i = 0; i < CYCLES_CPU; i++) await untilCycle(daemon, "full");
    const cpu = process.cpuUsage(cpu0);
    const cpuPerCycleMs = (cpu.user + cpu.system) / 1000 / CYCLES_CPU;
    const wallPerCycleMs = (performance.now() - wall0) / CYCLES_CPU;
    await daemon.stop(1000);
    // The host probe's share of a cycle (it reads os-release, the device tree and DMI each time).
    const HOST_CALLS = 500;
    const hostCpu0 = process.cpuUsage();
    for (let i = 0; i < HOST_CALLS; i++) await probeHost();
    const hostCpu = process.cpuUsage(hostCpu0);
    const hostCpuMs = (hostCpu.user + hostCpu.system) / 1000 / HOST_CALLS;

    // ---- 3. memory over 10,000 cycles ------------------------------------------------------
    const a = await collectNodeState(config, { ping: true });
    tailscaled.setScenario({ scraperPath: "relay", selfTags: null });
    await sleep(200);
    const b = await collectNodeState(config, { ping: true });
    let flip = 0;
    const alternating = async (): Promise<NodeState> => ({ ...(flip++ % 2 === 0 ? a : b), collectedAt: new Date().toISOString() });
    const memDaemon = new Daemon(config, logger, { createSink: () => countingSink(), collect: alternating });
    await memDaemon.start();
    const gc = (globalThis as { gc?: () => void }).gc;
    const heap = () => {
      gc?.();
      return process.memoryUsage();
    };
    const samples: { cycle: number; heapMiB: number; rssMiB: number }[] = [];
    const cpuOutputs0 = process.cpuUsage();
    for (let i = 1; i <= CYCLES_MEMORY; i++) {
      await untilCycle(memDaemon, "full");
      if (i === 1000 || i % 2500 === 0) {
        const m = heap();
        samples.push({ cycle: i, heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 });
      }
    }
    const cpuOutputs = process.cpuUsage(cpuOutputs0);
    await memDaemon.stop(1000);

    console.log("edge-agent daemon budget (2 vCPU VM; one run, side by side)");
    console.log("");
    console.log(`1. idle RSS: bare node ${idle.bare.toFixed(1)} MiB, edge-agent run ${idle.agent.toFixed(1)} MiB  ->  ratio ${(idle.agent / idle.bare).toFixed(2)}x (target <= 1.25x)`);
    console.log(`   bare node loading only the runtime libraries: ${libsRss.toFixed(1)} MiB (${(libsRss / idle.bare).toFixed(2)}x bare); each on its own adds: ${perLib.map(([l, v]) => `${l} +${v.toFixed(1)}`).join(", ")} MiB`);
    console.log(`2. CPU per full probe cycle: ${cpuPerCycleMs.toFixed(2)} ms (target < 30 ms), wall ${wallPerCycleMs.toFixed(1)} ms, over ${CYCLES_CPU} cycles`);
    console.log(`   of which the host probe (os-release, device tree, DMI; no process spawned): ${hostCpuMs.toFixed(2)} ms CPU per call, over ${HOST_CALLS} calls`);
    console.log(`   outputs alone (diff, logs, metrics, textfile, AgentX, sink) per cycle: ${((cpuOutputs.user + cpuOutputs.system) / 1000 / CYCLES_MEMORY).toFixed(2)} ms`);
    console.log(`3. memory over ${CYCLES_MEMORY} cycles with events every cycle (after GC${gc ? "" : " — run with --expose-gc for exact heap"}):`);
    for (const s of samples) console.log(`   cycle ${String(s.cycle).padStart(5)}: heap ${s.heapMiB.toFixed(2)} MiB, rss ${s.rssMiB.toFixed(1)} MiB`);
    const first = samples[0];
    const last = samples[samples.length - 1];
    console.log(`   heap growth cycle ${first.cycle} -> ${last.cycle}: ${(last.heapMiB - first.heapMiB).toFixed(2)} MiB (${((last.heapMiB / first.heapMiB - 1) * 100).toFixed(1)} %)`);
    emitBenchResult("daemon", [
      { metric: "idle RSS of edge-agent run", value: Number(idle.agent.toFixed(1)), unit: "MiB", reference: Number(idle.bare.toFixed(1)), referenceName: "bare node -e", ratio: Number((idle.agent / idle.bare).toFixed(2)), target: "<= 1.25x", pass: idle.agent / idle.bare <= 1.25 },
      { metric: "CPU per full probe cycle", value: Number(cpuPerCycleMs.toFixed(2)), unit: "ms", reference: null, ratio: null, target: "< 30 ms", pass: cpuPerCycleMs < 30 },
      { metric: `heap growth over ${CYCLES_MEMORY} cycles`, value: Number((last.heapMiB - first.heapMiB).toFixed(2)), unit: "MiB", reference: Number(first.heapMiB.toFixed(2)), referenceName: `heap at cycle ${first.cycle}`, ratio: Number((last.heapMiB / first.heapMiB).toFixed(2)), target: "flat", pass: null },
    ]);
  } finally {
    for (const c of children) c.kill();
    await exporter.stop();
    await snmpd.stop();
    tailscaled.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
