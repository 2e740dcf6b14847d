// Receiver throughput and memory, side by side with references on this machine, in one run.
//   npx tsx scripts/bench/receiver.ts [--seconds 3] [--rates 1000,2500,...] [--nodes 10000,50000,100000]
//                                     [--profile DIR]  (also writes a CPU profile of the receiver, readable build)
//                                     [--memory-only]  (part 2 alone)
// 1. Zero-loss sustained rate: for each rate step, a separate sender process sends `seconds`
//    worth of distinct EDGE-AGENT-MIB traps over loopback; a receiver keeps zero loss at a rate
//    when every trap was processed (the receiver's notifications_received_total; snmptrapd's
//    trap log lines in its -Lf file; the bare receiver's own count). Steps go up until a
//    receiver loses one; a loss is retried once, so one scheduling hiccup on a shared machine
//    does not end the run. Side by side with equal socket buffers:
//    - v2c, kernel default buffer: edge-agent receive (receiver.socketBuffer 0) vs snmptrapd;
//    - v2c, the receiver's default 8 MiB (as the kernel grants it): edge-agent receive vs
//      snmptrapd (serverRecvBuf) vs net-snmp's bare receiver (createReceiver, empty handler);
//    - v3 authPriv (SHA/AES), 8 MiB: the same three.
//    The receiver logs as shipped (info); snmptrapd logs every trap to a file.
// 2. Memory with 10,000, 50,000 and 100,000 distinct nodes: the receiver's RSS and live heap
//    (after a full GC, through the inspector opened with SIGUSR1 before the empty reading) per
//    node above the empty receiver, the fleet state file's size and how long its save took.
// Loopback only; about ten minutes.
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createSocket } from "node:dgram";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import snmp from "net-snmp";
import { oidTree } from "../../agent/snmp/oid-tree";
import { toVarbinds } from "../../agent/snmp/varbinds";
import { freeUdpPort, runBench, sleep, startChild, waitUntil } from "./lib/children";
import { profileSummary } from "./lib/cpu-profile";
import { cpuMs, loadAverage as load, rssKb } from "./lib/proc-usage";
import { liveHeapBytes, metric, openInspector, startReceiver as startShipped } from "./lib/shipped-receiver";
import { udpSocketMemory } from "./lib/udp-socket";
import { nodeValues } from "./lib/node-values";
import { sendTraps, v2cTemplate, type Template } from "./lib/v2c-traps";
import { emitBenchResult, type BenchRow } from "./report";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const SECONDS = Number(opt("seconds", "3"));
const RATES = opt("rates", "1000,2500,5000,7500,10000,12500,15000,20000,25000,30000,40000").split(",").map(Number);
const NODE_STEPS = opt("nodes", "10000,50000,100000").split(",").map(Number);
const PROFILE_DIR = opt("profile", "");
const MEMORY_ONLY = args.includes("--memory-only");
const BUFFER = 8 * 1024 * 1024; // the receiver's default receiver.socketBuffer
const COMMUNITY = "edgebench";
const V3 = { user: "benchuser", authKey: "bench-auth-key-1", privKey: "bench-priv-key-1", engineId: "8000b98380a1b2c3d4e5f60708" };
const tree = oidTree();
const dir = mkdtempSync(join(tmpdir(), "ea-bench-receiver-"));
const MIB_DIR = resolve(__dirname, "../../node_modules/net-snmp/lib/mibs");

let v3Sequence = 1;
/**
 * `count` distinct v3 authPriv (SHA/AES) traps from one node, each with its own sequence number,
 * encrypted and signed by net-snmp as a sender does, written to a file for the sender process.
 */
function v3Datagrams(count: number): string {
  const user = { name: V3.user, level: snmp.SecurityLevel.authPriv, authProtocol: snmp.AuthProtocols.sha, authKey: V3.authKey, privProtocol: snmp.PrivProtocols.aes, privKey: V3.privKey };
  const session = snmp.createV3Session("127.0.0.1", user, { engineID: V3.engineId, trapPort: 9 }) as any;
  const parts: Buffer[] = [];
  session.dgram.send = (buf: Buffer) => {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(buf.length);
    parts.push(length, Buffer.from(buf));
  };
  const start = Date.now();
  for (let i = 0; i < count; i++) session.trap(tree.notificationOid("heartbeat"), toVarbinds(tree, nodeValues("v3node", v3Sequence++, new Date(start + i))), () => undefined);
  session.close();
  if (parts.length !== 2 * count) throw new Error(`net-snmp built ${parts.length / 2} of ${count} v3 traps`);
  const file = join(dir, "v3-datagrams.bin");
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

type Traffic = { kind: "v2c"; tpl: Template } | { kind: "v3" };

interface Subject {
  name: string;
  port: number;
  child: ChildProcess;
  processed: () => Promise<number>;
}

interface Ours extends Subject {
  metricsUrl: string;
  statePath: string;
}

async function startReceiver(tag: string, socketBuffer: number, nodeFlags: string[] = [], readable = false): Promise<Ours> {
  const r = await startShipped({
    dir, tag, community: COMMUNITY, socketBuffer, nodeFlags, readable,
    extraConfig: [`  users: [{name: ${V3.user}, authProtocol: sha, authKey: ${V3.authKey}, privProtocol: aes, privKey: ${V3.privKey}}]`],
  });
  return { ...r, name: `edge-agent receive${socketBuffer ? "" : " (kernel default buffer)"}`, processed: () => metric(r.metricsUrl, "edge_fleet_receiver_notifications_received_total") };
}

/** net-snmp's receiver with an empty handler (receiver-bare.ts), the socket buffer set like ours. */
async function startBare(bufferBytes: number): Promise<Subject> {
  const port = await freeUdpPort();
  const out = join(dir, `bare-${port}.out`);
  const child = startChild(process.execPath, ["--import", "tsx", join(__dirname, "receiver-bare.ts"), String(port), String(bufferBytes), COMMUNITY, V3.user, V3.authKey, V3.privKey], out);
  let http = 0;
  await waitUntil("bare receiver start", () => {
    const m = /"http":(\d+)/.exec(readFileSync(out, "utf8"));
    http = m ? Number(m[1]) : 0;
    return http > 0;
  });
  return { name: "net-snmp bare receiver", port, child, processed: async () => Number(await (await fetch(`http://127.0.0.1:${http}/`)).text()) };
}

/** snmptrapd as Debian runs it, logging to a file; with recvBuf, its socket buffer set like ours. */
async function startSnmptrapd(recvBuf: number | null): Promise<Subject> {
  const port = await freeUdpPort();
  const tag = `${recvBuf ? "buf" : "default"}-${port}`;
  const conf = join(dir, `snmptrapd-${tag}.conf`);
  writeFileSync(conf, [
    `authCommunity log ${COMMUNITY}`,
    `createUser -e 0x${V3.engineId} ${V3.user} SHA ${V3.authKey} AES ${V3.privKey}`,
    `authUser log ${V3.user} priv`,
    ...(recvBuf ? ["[snmp] serverRecvBuf " + recvBuf] : []),
    "",
  ].join("\n"));
  const log = join(dir, `snmptrapd-${tag}.log`);
  writeFileSync(log, "");
  const child = startChild("snmptrapd", ["-f", "-n", "-C", "-c", conf, "-Lf", log, "-p", join(dir, `snmptrapd-${tag}.pid`), `udp:127.0.0.1:${port}`], join(dir, `snmptrapd-${tag}.out`), {
    ...process.env, MIBS: "", MIBDIRS: MIB_DIR, SNMP_PERSISTENT_DIR: join(dir, `snmptrapd-${tag}-persist`),
  });
  await waitUntil("snmptrapd start", () => readFileSync(log, "utf8").includes("NET-SNMP version"));
  // Each trap's log entry names its transport once: "[UDP: [127.0.0.1]:port->...]".
  const count = () => (readFileSync(log, "latin1").match(/\[UDP: \[/g) ?? []).length;
  return { child, name: recvBuf ? "snmptrapd (same buffer)" : "snmptrapd", port, processed: async () => count() };
}

/** The socket receive buffer the kernel gave a UDP port (ss's skmem rb), in bytes. */
function recvBuffer(port: number): number {
  return udpSocketMemory(port)?.buffer ?? NaN;
}

async function step(subject: Subject, rate: number, traffic: Traffic): Promise<{ sent: number; got: number }> {
  const before = await subject.processed();
  const count = Math.round(rate * SECONDS);
  if (traffic.kind === "v2c") await sendTraps(subject.port, rate, count, traffic.tpl);
  else await sendTraps(subject.port, rate, count, `@${v3Datagrams(count)}`);
  // Let the receiver drain its socket buffer and finish logging.
  let got = 0;
  let last = -1;
  for (let i = 0; i < 40 && got !== last; i++) {
    last = got;
    await sleep(250);
    got = (await subject.processed()) - before;
  }
  return { sent: count, got };
}

async function highestZeroLoss(subject: Subject, traffic: Traffic): Promise<number> {
  let best = 0;
  for (const rate of RATES) {
    let r = await step(subject, rate, traffic);
    if (r.got < r.sent) {
      console.log(`  ${subject.name.padEnd(40)} ${String(rate).padStart(6)}/s: lost ${r.sent - r.got} of ${r.sent}; retrying once`);
      r = await step(subject, rate, traffic);
    }
    const loss = r.sent - r.got;
    console.log(`  ${subject.name.padEnd(40)} ${String(rate).padStart(6)}/s: sent ${r.sent}, processed ${r.got}${loss > 0 ? `, LOST ${loss} (${((100 * loss) / r.sent).toFixed(2)}%)` : ", no loss"}`);
    if (loss > 0) break;
    best = rate;
  }
  // A rate of 0 means nothing was processed without loss even at the lowest step: no measurement happened.
  if (best === 0) throw new Error(`${subject.name} lost notifications at the lowest rate tried (${RATES[0]}/s): check its output in ${dir}; no rate was measured`);
  if (best === RATES[RATES.length - 1]) console.log(`  (${subject.name} kept zero loss at the highest step tried; raise --rates to find its limit)`);
  return best;
}

interface Measured {
  best: number;
  /** CPU per notification processed over the whole ramp, µs: less noisy than the rates. */
  cpuUs: number;
}

async function measure(subject: Subject, traffic: Traffic): Promise<Measured> {
  const pid = subject.child.pid!;
  try {
    const cpu0 = cpuMs(pid);
    const processed0 = await subject.processed();
    const best = await highestZeroLoss(subject, traffic);
    const cpuUs = ((cpuMs(pid) - cpu0) * 1000) / Math.max(1, (await subject.processed()) - processed0);
    console.log(`  ${subject.name}: ${cpuUs.toFixed(1)} µs of CPU per notification processed over the ramp`);
    return { best, cpuUs };
  } finally {
    subject.child.kill("SIGTERM");
    await new Promise((r) => (subject.child.exitCode !== null ? r(null) : subject.child.once("exit", r)));
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function rateRow(metric: string, value: number, reference: number, referenceName: string, target: number | null): BenchRow {
  const ratio = reference > 0 ? round2(value / reference) : null;
  return { metric, value, unit: "notifications/s", reference, referenceName, ratio, target: target === null ? null : `>= ${target}x`, pass: target === null || ratio === null ? null : ratio >= target };
}

function cpuRow(metric: string, value: number, reference: number, referenceName: string): BenchRow {
  return { metric, value: round2(value), unit: "µs", reference: round2(reference), referenceName, ratio: reference > 0 ? round2(value / reference) : null, target: null, pass: null };
}

async function memory(tpl: Template): Promise<BenchRow[]> {
  /** A new notification from node 000000 (a known node), as one more heartbeat of a live fleet. */
  const sendChange = (port: number, sequence: number) => {
    const change = Buffer.from(tpl.bytes);
    change.writeUInt32BE(sequence, tpl.seqOffset);
    for (const at of tpl.nameOffsets) change.write("000000", at, "latin1");
    return new Promise<void>((res) => {
      const s = createSocket("udp4");
      s.send(change, port, "127.0.0.1", () => s.close(() => res()));
    });
  };
  const mem = await startReceiver("memory", BUFFER, ["--inspect-port=0"]);
  const pid = mem.child.pid!;
  const log = join(dir, "receiver-memory.log");
  const inspector = await openInspector(mem.child, log);
  await sleep(2000);
  const heap0 = liveHeapBytes(inspector);
  await sleep(1000);
  const rss0 = rssKb(pid);
  console.log(`Memory: empty receiver (inspector open): RSS ${(rss0 / 1024).toFixed(1)} MiB, live heap ${(heap0 / 1048576).toFixed(1)} MiB`);
  const rows: BenchRow[] = [];
  for (const nodes of NODE_STEPS) {
    // Passes over the node names at a modest rate until every node is known (a datagram lost on
    // a busy machine is made up by the next pass), at most six.
    for (let pass = 0; pass < 6 && (await metric(mem.metricsUrl, "edge_fleet_nodes{")) < nodes; pass++) {
      await sendTraps(mem.port, 4000, nodes, tpl, { nodes });
      await sleep(1000);
    }
    const known = await metric(mem.metricsUrl, "edge_fleet_nodes{");
    if (known < nodes) throw new Error(`the receiver knows ${known} of the ${nodes} nodes sent after 6 passes: the memory figure would not be for ${nodes} nodes`);
    // One scrape of the per-node metrics, as Prometheus would do, then the next save of the state.
    const scrapeStart = Date.now();
    const size = (await (await fetch(mem.metricsUrl)).text()).length;
    const scrapeMs = Date.now() - scrapeStart;
    // Then one more notification (a change, as a live fleet keeps sending) after the flood, and
    // the save it causes: the state written with nothing else arriving.
    await sleep(3000);
    const saves = await metric(mem.metricsUrl, "edge_fleet_receiver_state_saves_total");
    await sendChange(mem.port, 0x7f000000 + 2 * nodes);
    await waitUntil("the save after the last change", async () => (await metric(mem.metricsUrl, "edge_fleet_receiver_state_saves_total")) > saves, 120_000);
    const saveSeconds = await metric(mem.metricsUrl, "edge_fleet_receiver_state_save_seconds");
    // And another change, so the /metrics text rendered for the bench's own reads is let go as it
    // is in a live fleet between two scrapes (its size is reported beside).
    await sendChange(mem.port, 0x7f000000 + 2 * nodes + 1);
    await sleep(3000);
    const stateBytes = statSync(mem.statePath).size;
    const rss = rssKb(pid);
    const heap = liveHeapBytes(inspector);
    // After that full collection V8 hands unused pages back: what is left once the transient
    // garbage of the flood and of rendering /metrics is gone.
    await sleep(1000);
    const settled = rssKb(pid);
    const rssPerNode = (rss - rss0) / known;
    const heapPerNode = (heap - heap0) / 1024 / known;
    console.log(`  ${known} nodes: RSS ${(rss / 1024).toFixed(1)} MiB (${rssPerNode.toFixed(2)} KiB per node above empty), live heap ${(heap / 1048576).toFixed(1)} MiB (${heapPerNode.toFixed(2)} KiB per node), RSS after that full GC ${(settled / 1024).toFixed(1)} MiB (${((settled - rss0) / known).toFixed(2)} KiB per node); /metrics ${(size / 1e6).toFixed(1)} MB in ${scrapeMs} ms; state file ${(stateBytes / 1e6).toFixed(1)} MB, last save ${saveSeconds.toFixed(2)} s`);
    rows.push(
      { metric: `RSS per node above the empty receiver, ${known} nodes`, value: round2(rssPerNode), unit: "KiB", reference: Number((rss0 / 1024).toFixed(1)), referenceName: "empty receiver RSS, MiB", ratio: null, target: "<= 2 KiB", pass: rssPerNode <= 2, note: `RSS ${(rss / 1024).toFixed(1)} MiB; after a full GC ${(settled / 1024).toFixed(1)} MiB (${((settled - rss0) / known).toFixed(2)} KiB per node)` },
      { metric: `live heap per node, ${known} nodes`, value: round2(heapPerNode), unit: "KiB", reference: Number((heap0 / 1048576).toFixed(1)), referenceName: "empty receiver live heap, MiB", ratio: null, target: null, pass: null, note: `live heap ${(heap / 1048576).toFixed(1)} MiB` },
      { metric: `fleet state save (wall), ${known} nodes`, value: round2(saveSeconds), unit: "s", reference: null, ratio: null, target: known >= 100_000 ? "<= 1 s" : null, pass: known >= 100_000 ? saveSeconds <= 1 : null, note: `file ${(stateBytes / 1e6).toFixed(1)} MB` },
    );
  }
  mem.child.kill("SIGTERM");
  return rows;
}

async function main(): Promise<void> {
  const tpl = await v2cTemplate(COMMUNITY);
  const v2c: Traffic = { kind: "v2c", tpl };
  const v3: Traffic = { kind: "v3" };
  const v3Size = readFileSync(v3Datagrams(1)).length - 2;
  console.log(`Receiver bench: ${SECONDS} s per step, distinct EDGE-AGENT-MIB traps over loopback: v2c ${tpl.bytes.length} bytes, v3 authPriv (SHA/AES) ${v3Size} bytes.`);
  console.log(`node ${process.version}, ${spawnSync("snmptrapd", ["--version"], { encoding: "utf8" }).stdout.split("\n").find((l) => l.includes("NET-SNMP")) ?? "snmptrapd"}, ${cpus().length} CPUs (${cpus()[0]?.model}), load average ${load()} at the start`);

  if (MEMORY_ONLY) {
    emitBenchResult("receiver", await memory(tpl));
    return;
  }
  // Kernel default buffers on both sides.
  const oursSmall = await startReceiver("v2c-default", 0);
  const smallBuf = recvBuffer(oursSmall.port);
  const { best: ourSmallBest } = await measure(oursSmall, v2c);
  const trapd = await startSnmptrapd(null);
  const trapdBuf = recvBuffer(trapd.port);
  const { best: trapdBest } = await measure(trapd, v2c);

  // The receiver's default buffer, given to all three.
  const ours = await startReceiver("v2c", BUFFER, PROFILE_DIR ? [`--cpu-prof`, `--cpu-prof-dir=${PROFILE_DIR}`] : [], PROFILE_DIR !== "");
  const bigBuf = recvBuffer(ours.port);
  const { best: ourBest, cpuUs: ourCpu } = await measure(ours, v2c);
  // Net-SNMP's serverRecvBuf is what it asks for; the kernel doubles it.
  const trapdBig = await startSnmptrapd(Math.round(bigBuf / 2));
  const trapdBigBuf = recvBuffer(trapdBig.port);
  const { best: trapdBigBest, cpuUs: trapdCpu } = await measure(trapdBig, v2c);
  const bare = await startBare(BUFFER);
  const bareBuf = recvBuffer(bare.port);
  const { best: bareBest, cpuUs: bareCpu } = await measure(bare, v2c);
  console.log(`Socket receive buffers: kernel default ${smallBuf} B (receiver) / ${trapdBuf} B (snmptrapd); asked for ${BUFFER} B: receiver ${bigBuf} B, snmptrapd ${trapdBigBuf} B, bare net-snmp ${bareBuf} B (net.core.rmem_max ${readFileSync("/proc/sys/net/core/rmem_max", "utf8").trim()})`);
  if (new Set([bigBuf, trapdBigBuf, bareBuf]).size !== 1 || smallBuf !== trapdBuf) throw new Error("the socket buffers differ: the side-by-side rates would not compare like with like");

  const oursV3 = await startReceiver("v3", BUFFER);
  const { best: ourV3Best, cpuUs: ourV3Cpu } = await measure(oursV3, v3);
  const trapdV3 = await startSnmptrapd(Math.round(bigBuf / 2));
  const { best: trapdV3Best, cpuUs: trapdV3Cpu } = await measure(trapdV3, v3);
  const bareV3 = await startBare(BUFFER);
  const { best: bareV3Best, cpuUs: bareV3Cpu } = await measure(bareV3, v3);

  console.log("");
  console.log(`Highest zero-loss v2c rate, kernel default buffer: edge-agent receive ${ourSmallBest}/s, snmptrapd ${trapdBest}/s`);
  console.log(`Highest zero-loss v2c rate, ${(bigBuf / 1048576).toFixed(0)} MiB buffer: edge-agent receive ${ourBest}/s, snmptrapd ${trapdBigBest}/s, bare net-snmp ${bareBest}/s`);
  console.log(`Highest zero-loss v3 authPriv rate, ${(bigBuf / 1048576).toFixed(0)} MiB buffer: edge-agent receive ${ourV3Best}/s, snmptrapd ${trapdV3Best}/s, bare net-snmp ${bareV3Best}/s`);
  console.log(`Load average after the rate runs: ${load()} (on ${cpus().length} CPUs; rates on a shared machine are noisy, the ratios side by side are what count)`);
  if (PROFILE_DIR) {
    const file = readdirSync(PROFILE_DIR).filter((f) => f.endsWith(".cpuprofile")).sort().pop();
    if (file) console.log(`\nCPU profile of the receiver during its v2c ramp (${join(PROFILE_DIR, file)}):\n${profileSummary(join(PROFILE_DIR, file), 25)}\n`);
  }

  const buf = `${(bigBuf / 1048576).toFixed(0)} MiB buffer`;
  const rows: BenchRow[] = [
    rateRow("highest zero-loss v2c rate, kernel default buffer", ourSmallBest, trapdBest, "snmptrapd, same default buffer", 2),
    rateRow(`highest zero-loss v2c rate, ${buf}`, ourBest, trapdBigBest, "snmptrapd, same buffer", 2),
    rateRow(`highest zero-loss v2c rate, ${buf}, against the library`, ourBest, bareBest, "net-snmp createReceiver, empty handler, same buffer", 0.8),
    rateRow(`highest zero-loss v3 authPriv (SHA/AES) rate, ${buf}`, ourV3Best, trapdV3Best, "snmptrapd, same buffer", 2),
    rateRow(`highest zero-loss v3 authPriv (SHA/AES) rate, ${buf}, against the library`, ourV3Best, bareV3Best, "net-snmp createReceiver, empty handler, same buffer", null),
    cpuRow("CPU per v2c notification over the 8 MiB ramp", ourCpu, bareCpu, "net-snmp createReceiver, empty handler"),
    cpuRow("CPU per v2c notification over the 8 MiB ramp", ourCpu, trapdCpu, "snmptrapd (logging each to a file)"),
    cpuRow("CPU per v3 authPriv notification over the 8 MiB ramp", ourV3Cpu, bareV3Cpu, "net-snmp createReceiver, empty handler"),
    cpuRow("CPU per v3 authPriv notification over the 8 MiB ramp", ourV3Cpu, trapdV3Cpu, "snmptrapd (logging each to a file)"),
    ...(await memory(tpl)),
  ];
  console.log(`Load average at the end: ${load()}`);
  emitBenchResult("receiver", rows);
}

runBench(main, dir);
