// The daemon's budget, measured side by side in one run (DESIGN.md: idle RSS within 1.25x of a
// bare `node -e`, CPU per probe cycle under 30 ms, memory flat over 10,000 cycles):
//  1. idle RSS of `edge-agent run` as the package runs it (scripts/build.sh's bundle, started
//     as packaging/systemd/edge-agent.service does: ExecStart's node flags, its Environment=,
//     W^X enforced; AgentX registered with a real snmpd, the fake LocalAPI) next to
//     `node -e 'setInterval(()=>{},1e9)'`; for comparison the same with the unit's flags but
//     without its Environment= (AgentX registered with a second snmpd), and the same bundle under
//     plain `node`;
//  2. CPU per full probe cycle in process (real probes against real snmpd and node-exporter and
//     the fake LocalAPI, all on loopback; as root the live nftables ruleset too), the children it
//     spawns included, and what one cycle's outputs cost on their own; then the shipped process
//     with run.interval 1s, its watchers' polling included;
//  3. heap and RSS over 10,000 cycles whose snapshots alternate, so every cycle has events,
//     log lines, a textfile write and AgentX updates.
// Usage: sudo node --expose-gc -r tsx/cjs scripts/bench/daemon.ts   (without root the ruleset
// cannot be read and the firewall probe answers unknown at once: CPU figures come out lower)
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pino from "pino";
import { configFromObject } from "../../agent/config";
import { Daemon, type EventSink } from "../../agent/daemon/daemon";
import { collectNodeState } from "../../agent/probes/collect";
import { readLiveRuleset } from "../../agent/probes/firewall";
import { probeHost } from "../../agent/probes/host";
import type { NodeState } from "../../agent/state/node-state";
import { startNodeExporter } from "../../test/helpers/node-exporter";
import { freeTcpPort, freeUdpPort, waitFor } from "../../test/helpers/ports";
import { netSnmpEnv, startSnmpd } from "../../test/helpers/snmpd";
import { oidTree } from "../../agent/snmp/oid-tree";
import { unitCommand, unitEnvironment } from "../../test/helpers/unit-exec";
import { emitBenchResult } from "./report";

const REPO = resolve(__dirname, "../..");
const CYCLES_CPU = 200;
const CYCLES_MEMORY = 10_000;
/** How long the shipped processes' CPU is counted, after a 5 s start-up. */
const SHIPPED_SECONDS = 60;

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.replace(/\D+/g, "")) / 1024;
}

/** CPU time (ms) of a process, and of its children it has waited for, from /proc/PID/stat. */
function cpuMs(pid: number | "self"): { own: number; children: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  return { own: (Number(fields[11]) + Number(fields[12])) * tick, children: (Number(fields[13]) + Number(fields[14])) * tick };
}

/** How the package's unit starts the daemon (launcher, node flags, Environment=), pointed at this bundle and config. */
function startAsUnit(bundle: string, configFile: string, options: { withEnvironment?: boolean; stdout?: "ignore" | "pipe" } = {}) {
  const { argv, env } = unitCommand(bundle, ["run", "--config", configFile]);
  return spawn(argv[0], argv.slice(1), { stdio: ["ignore", options.stdout ?? "ignore", "inherit"], env: options.withEnvironment === false ? process.env : env });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for a daemon's textfile to say its AgentX objects are registered; throws if they never are. */
async function registered(textfile: string, who: string): Promise<void> {
  await waitFor(`${who}'s AgentX registration (edge_agent_agentx_registered 1 in ${textfile})`, () => {
    try {
      return readFileSync(textfile, "utf8").includes("edge_agent_agentx_registered 1") || null;
    } catch {
      return null;
    }
  }, 30_000, 200);
}

/** edgeAgentVersion.0 read through snmpd, as the scraper would: proof the objects are served. */
async function servedThrough(port: number): Promise<string> {
  const oid = `${oidTree().objectOid("edgeAgentVersion")}.0`;
  const value = execFileSync("snmpget", ["-v2c", "-c", "edgetest", "-Oqv", "-t", "2", "-r", "1", `127.0.0.1:${port}`, oid], { encoding: "utf8", env: netSnmpEnv() }).trim();
  if (!/^"?\d+\.\d+\.\d+/.test(value)) throw new Error(`snmpd on port ${port} does not serve ${oid} (answered ${value}): the daemon's AgentX objects are not served, so its RSS is not the budget's`);
  return value.replace(/^"(.*)"$/, "$1");
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function countingSink(): EventSink {
  let sent = 0;
  return { start: async () => undefined, notify: () => void sent++, flush: async () => undefined, close: async () => undefined, stats: () => ({ sent, acknowledged: 0, queued: 0, dropped: 0, failed: 0 }) };
}

/** Starts the bundle as the unit does with `twin`'s config and counts its CPU over `seconds`. */
async function shippedCpu(bundle: string, twin: { dir: string; file: string }, seconds: number): Promise<{ child: ReturnType<typeof spawn>; perCycleMs: number; cycles: number; cpuMsPerHour: number }> {
  const child = startAsUnit(bundle, twin.file, { stdout: "pipe" });
  let cyclesDone = 0;
  child.stdout!.on("data", (chunk: Buffer) => (cyclesDone += chunk.toString().split("\n").filter((l) => l.includes('"msg":"cycle done"')).length));
  await sleep(5000);
  const before = { cpu: cpuMs(child.pid!), cycles: cyclesDone };
  await sleep(seconds * 1000);
  const after = { cpu: cpuMs(child.pid!), cycles: cyclesDone };
  child.kill("SIGTERM");
  rmSync(twin.dir, { recursive: true, force: true });
  const cpu = after.cpu.own - before.cpu.own + after.cpu.children - before.cpu.children;
  const cycles = after.cycles - before.cycles;
  if (cycles === 0) throw new Error(`the shipped daemon (${twin.file}) completed no cycle in ${seconds} s: nothing was measured`);
  return { child, perCycleMs: cpu / cycles, cycles, cpuMsPerHour: (cpu / seconds) * 3600 };
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
  /** The same config for another daemon beside the measured one, writing to a directory of its own. */
  const twinConfig = (name: string, overrides: object): { dir: string; file: string } => {
    const dir = mkdtempSync(join(tmpdir(), `ea-bench-daemon-${name}-`));
    const file = join(dir, "config.yaml");
    writeFileSync(file, JSON.stringify({ ...raw, textfile: { directory: dir }, notifications: { ...raw.notifications, outbox: join(dir, "outbox") }, ...overrides }));
    return { dir, file };
  };
  const children: { kill: () => void }[] = [];
  let twinSnmpd: Awaited<ReturnType<typeof startSnmpd>> | undefined;
  try {
    // ---- 1. idle RSS, the package's daemon vs bare node ---------------------------------------
    execFileSync("bash", [join(REPO, "scripts/build.sh")], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
    const bundle = join(REPO, "dist/bundle/edge-agent");
    const configFile = join(work, "config.yaml");
    writeFileSync(configFile, JSON.stringify(raw));
    const bare = spawn(process.execPath, ["-e", "setInterval(()=>{},1e9)"], { stdio: "ignore" });
    const agent = startAsUnit(bundle, configFile);
    children.push(bare, agent);
    // The twin without the unit's Environment= registers with an snmpd of its own, so the two
    // never contend for the MIB subtree and both carry AgentX's cost.
    const twinAgentxPort = await freeTcpPort();
    twinSnmpd = await startSnmpd({ extra: ["master agentx", `agentXSocket tcp:127.0.0.1:${twinAgentxPort}`] });
    const noEnvTwin = twinConfig("noenv", { agentx: { master: `tcp:127.0.0.1:${twinAgentxPort}` } });
    const noEnv = startAsUnit(bundle, noEnvTwin.file, { withEnvironment: false });
    children.push(noEnv);
    // The RSS is measured with AgentX registered and serving: a registration that did not happen
    // would measure a daemon that carries none of AgentX's cost, so it ends the bench.
    await registered(join(work, "edge_agent.prom"), "the unit-started agent");
    await registered(join(noEnvTwin.dir, "edge_agent.prom"), "the twin without Environment=");
    // The plain-node twin writes to a directory of its own, so the two never share a textfile.
    const plainTwin = twinConfig("plain", { agentx: { enabled: false } });
    const plain = spawn(process.execPath, [bundle, "run", "--config", plainTwin.file], { stdio: ["ignore", "ignore", "inherit"] });
    children.push(plain);
    // Idle means steady state: after the second full cycle (run.interval 30s), once start-up and
    // the first cycles' compilation are behind it. Samples then span a whole interval.
    await sleep(35_000);
    const bareRss: number[] = [];
    const agentRss: number[] = [];
    const noEnvRss: number[] = [];
    const plainRss: number[] = [];
    for (let i = 0; i < 30; i++) {
      bareRss.push(rssMiB(bare.pid!));
      agentRss.push(rssMiB(agent.pid!));
      noEnvRss.push(rssMiB(noEnv.pid!));
      plainRss.push(rssMiB(plain.pid!));
      await sleep(1000);
    }
    const idle = { bare: median(bareRss), agent: median(agentRss), noEnv: median(noEnvRss), plain: median(plainRss) };
    const servedVersion = await servedThrough(snmpd.port);
    const twinServedVersion = await servedThrough(twinSnmpd.port);
    bare.kill();
    agent.kill("SIGTERM");
    noEnv.kill("SIGTERM");
    plain.kill("SIGTERM");
    rmSync(plainTwin.dir, { recursive: true, force: true });
    rmSync(noEnvTwin.dir, { recursive: true, force: true });
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
    // From the sources, in this process: counting cycles exactly needs the daemon's own
    // requestCycle()/settled(); the shipped process's per-cycle cost is measured below.
    const config = configFromObject(raw, null);
    const logger = pino({ level: "info" }, pino.destination("/dev/null"));
    // The daemon's own collect: every probe, the host's os-release/DMI reads included, every cycle.
    const daemon = new Daemon(config, logger, { createSink: () => countingSink() });
    await daemon.start();
    await waitFor("AgentX registration of the in-process daemon", () => readFileSync(join(work, "edge_agent.prom"), "utf8").includes("edge_agent_agentx_registered 1") || (daemon.requestCycle("full"), null), 10_000, 300);
    for (let i = 0; i < 10; i++) await untilCycle(daemon, "full"); // warm-up
    const cpu0 = cpuMs("self");
    const wall0 = performance.now();
    for (let i = 0; i < CYCLES_CPU; i++) await untilCycle(daemon, "full");
    const cpu1 = cpuMs("self");
    const cpuPerCycleMs = (cpu1.own - cpu0.own + cpu1.children - cpu0.children) / CYCLES_CPU;
    const childPerCycleMs = (cpu1.children - cpu0.children) / CYCLES_CPU;
    const wallPerCycleMs = (performance.now() - wall0) / CYCLES_CPU;
    const rulesetReads = daemon.rulesetReads;
    await daemon.stop(1000);
    // What a cycle after a ruleset change adds: one `nft -j list ruleset` and its parse.
    const READS = 50;
    const read0 = cpuMs("self");
    let readable = true;
    for (let i = 0; i < READS; i++) await readLiveRuleset(1000).catch(() => (readable = false));
    const read1 = cpuMs("self");
    const rereadMs = (read1.own - read0.own + read1.children - read0.children) / READS;

    // The shipped process, as the kernel accounts it (its nft children included): every cycle,
    // the watchers' polling and the outputs. Four at once over the same window: the services
    // present (node-exporter, snmpd, the LocalAPI; AgentX off, as the measured daemon above owns
    // the subtree) and absent (connection refused, nothing on 161, no tailscaled socket, AgentX
    // master gone, so its reconnect backoff runs too), each at run.interval 1s and at the
    // default 30s; the latter gives CPU per hour and per day of idle running.
    const absent = { probes: { timeout: "1s", nodeExporter: { url: "http://127.0.0.1:1/metrics" }, snmpd: { port: 1 } }, tailscale: { socket: join(work, "absent.sock") }, agentx: { master: "tcp:127.0.0.1:1" } };
    const settings = {
      "present, 1s": { agentx: { enabled: false }, run: { interval: "1s", heartbeat: "5m" } },
      "absent, 1s": { ...absent, run: { interval: "1s", heartbeat: "5m" } },
      "present, 30s": { agentx: { enabled: false } },
      "absent, 30s": { ...absent },
    };
    const unitRuns = await Promise.all(Object.entries(settings).map(([name, overrides]) => shippedCpu(bundle, twinConfig(name.replace(/\W+/g, "-"), { ...overrides, log: { level: "debug" } }), SHIPPED_SECONDS).then((r) => ({ name, ...r }))));
    for (const s of unitRuns) children.push(s.child);
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
    const envWords = Object.entries(unitEnvironment()).map(([k, v]) => `${k}=${v}`).join(" ");
    const shipped = unitCommand(bundle).argv;
    const shippedAs = [envWords, ...shipped.filter((a) => a.startsWith("--"))].filter(Boolean).join(" ") + (shipped[0] === process.execPath ? "" : ", W^X enforced");
    console.log(`1. idle RSS: bare node ${idle.bare.toFixed(1)} MiB, edge-agent run as the unit starts it (${shippedAs}) ${idle.agent.toFixed(1)} MiB  ->  ratio ${(idle.agent / idle.bare).toFixed(2)}x (target <= 1.25x)`);
    console.log(`   both AgentX-enabled daemons registered and serving: edgeAgentVersion.0 = ${servedVersion} and ${twinServedVersion} through their snmpds after the samples`);
    console.log(`   the unit's node flags without its Environment= (${envWords || "none"}): ${idle.noEnv.toFixed(1)} MiB (${(idle.noEnv / idle.bare).toFixed(2)}x)`);
    console.log(`   the same bundle under plain node (no flags, AgentX off): ${idle.plain.toFixed(1)} MiB (${(idle.plain / idle.bare).toFixed(2)}x)`);
    console.log(`   bare node loading only the runtime libraries: ${libsRss.toFixed(1)} MiB (${(libsRss / idle.bare).toFixed(2)}x bare); each on its own adds: ${perLib.map(([l, v]) => `${l} +${v.toFixed(1)}`).join(", ")} MiB`);
    console.log(`2. CPU per full probe cycle: ${cpuPerCycleMs.toFixed(2)} ms (target < 30 ms; of which children ${childPerCycleMs.toFixed(2)} ms), wall ${wallPerCycleMs.toFixed(1)} ms, over ${CYCLES_CPU} cycles; ruleset read ${rulesetReads.read} times, reused ${rulesetReads.cached} times`);
    console.log(`   a cycle after a ruleset change adds one nft -j list ruleset and its parse: ${readable ? `${rereadMs.toFixed(2)} ms CPU` : "not measured (the ruleset cannot be read: run as root)"}`);
    for (const s of unitRuns)
      console.log(`   the shipped process, services ${s.name}: ${s.perCycleMs.toFixed(2)} ms CPU per cycle over ${s.cycles} cycles (watchers included); ${(s.cpuMsPerHour / 1000).toFixed(1)} s CPU per hour, ${((s.cpuMsPerHour * 24) / 1000).toFixed(0)} s per day`);
    console.log(`   of which the host probe (os-release, device tree, DMI; no process spawned): ${hostCpuMs.toFixed(2)} ms CPU per call, over ${HOST_CALLS} calls`);
    console.log(`   outputs alone (diff, logs, metrics, textfile, AgentX, sink) per cycle: ${((cpuOutputs.user + cpuOutputs.system) / 1000 / CYCLES_MEMORY).toFixed(2)} ms`);
    console.log(`3. memory over ${CYCLES_MEMORY} cycles with events every cycle (after GC${gc ? "" : " — run with --expose-gc for exact heap"}):`);
    for (const s of samples) console.log(`   cycle ${String(s.cycle).padStart(5)}: heap ${s.heapMiB.toFixed(2)} MiB, rss ${s.rssMiB.toFixed(1)} MiB`);
    const first = samples[0];
    const last = samples[samples.length - 1];
    console.log(`   heap growth cycle ${first.cycle} -> ${last.cycle}: ${(last.heapMiB - first.heapMiB).toFixed(2)} MiB (${((last.heapMiB / first.heapMiB - 1) * 100).toFixed(1)} %)`);
    emitBenchResult("daemon", [
      { metric: "idle RSS of edge-agent run", value: Number(idle.agent.toFixed(1)), unit: "MiB", reference: Number(idle.bare.toFixed(1)), referenceName: "bare node -e", ratio: Number((idle.agent / idle.bare).toFixed(2)), target: "<= 1.25x", pass: idle.agent / idle.bare <= 1.25 },
      { metric: "idle RSS, the unit's node flags without its Environment=", value: Number(idle.noEnv.toFixed(1)), unit: "MiB", reference: Number(idle.bare.toFixed(1)), referenceName: "bare node -e", ratio: Number((idle.noEnv / idle.bare).toFixed(2)), target: null, pass: null },
      { metric: "idle RSS, same bundle under plain node", value: Number(idle.plain.toFixed(1)), unit: "MiB", reference: Number(idle.bare.toFixed(1)), referenceName: "bare node -e", ratio: Number((idle.plain / idle.bare).toFixed(2)), target: null, pass: null },
      { metric: "CPU per full probe cycle (children included)", value: Number(cpuPerCycleMs.toFixed(2)), unit: "ms", reference: null, ratio: null, target: "< 30 ms", pass: cpuPerCycleMs < 30, note: `ruleset read ${rulesetReads.read}x, reused ${rulesetReads.cached}x` },
      ...(readable ? [{ metric: "CPU added by a ruleset re-read (after a change)", value: Number(rereadMs.toFixed(2)), unit: "ms", reference: null, ratio: null, target: null, pass: null }] : []),
      ...unitRuns.filter((s) => s.name.endsWith("1s")).map((s) => ({ metric: `CPU per cycle, shipped process at run.interval 1s, services ${s.name.split(",")[0]} (polling included)`, value: Number(s.perCycleMs.toFixed(2)), unit: "ms", reference: null, ratio: null, target: "< 30 ms", pass: s.perCycleMs < 30 })),
      ...unitRuns.filter((s) => s.name.endsWith("30s")).map((s) => ({ metric: `CPU per day idle at the default run.interval 30s, services ${s.name.split(",")[0]}`, value: Math.round((s.cpuMsPerHour * 24) / 1000), unit: "s", reference: null, ratio: null, target: null, pass: null })),
      { metric: `heap growth over ${CYCLES_MEMORY} cycles`, value: Number((last.heapMiB - first.heapMiB).toFixed(2)), unit: "MiB", reference: Number(first.heapMiB.toFixed(2)), referenceName: `heap at cycle ${first.cycle}`, ratio: Number((last.heapMiB / first.heapMiB).toFixed(2)), target: "flat", pass: null },
    ]);
  } finally {
    for (const c of children) c.kill();
    await exporter.stop();
    await snmpd.stop();
    await twinSnmpd?.stop();
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
