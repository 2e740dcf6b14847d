// One receiver's limits at fleet scale (issue 20): the shipped receiver (the bundle, started with
// edge-agent-receiver.service's command line) on loopback, fed by a sender process that plays a
// fleet of distinct nodes (one v2c EDGE-AGENT-MIB trap template, a node name and sequence number
// written into each datagram). For each fleet size, a fresh receiver:
// 1. Onboarding: every node's first notification, flooded in at --onboard-rate (passes over the
//    names until the receiver knows them all; a datagram lost on a busy machine is made up by the
//    next pass), timed from the first datagram until edge_fleet_nodes says all are known.
// 2. Steady state at the default heartbeat (run.heartbeat 5m: N/300 notifications a second, each
//    node once per 300 s) for --steady-seconds: the receiver's RSS (peak, and after a full GC),
//    its CPU (utime+stime) per second and per notification, loss (sent against its own
//    edge_fleet_receiver_notifications_received_total; the socket's drops beside). /metrics is
//    scraped as Prometheus would, every --scrape-seconds (its default scrape_interval, 1m), the
//    first half an interval in.
// 3. Fleet-wide reboot: every node sends edgeAgentStarted (its sequence continuing, as the
//    agent's outbox keeps it) within --reboot-seconds, scraped the same way: peak RSS, CPU, loss.
//    Between phases the bench waits for the receiver to be quiet (its socket drained, the state
//    save after the last change written) without asking /metrics, whose rendering would weigh.
// 4. Outputs, with the fleet quiet, after one node's reported state changes (node-exporter down,
//    then up again), a few times: the time until the file_sd file is rewritten (includes the wait
//    for the receiver's 1 s tick), the GET /metrics right after it (the per-node series are
//    rendered anew for it: the receiver renders at most once per change; the figure is render +
//    transfer + the client reading the body), a GET with nothing changed (the cached text), the
//    state save the change caused (the receiver's own edge_fleet_receiver_state_save_seconds).
//    file_sd's render and atomic write have no metric of their own, so they are timed here with
//    the receiver's code (agent/receiver/file-sd.ts, atomic-write.ts) on the fleet the receiver
//    saved. References from the same run: the empty receiver's RSS, the fleet's CPU at rest, a
//    bare Node HTTP server serving a static body of the same size, write + fsync of the same
//    file_sd text, and JSON.stringify + write + fsync of the same saved records.
// Loopback only, no root needed; about ten minutes with the defaults on 2 CPUs.
//   npx tsx scripts/bench/fleet.ts [--nodes 10000,100000] [--steady-seconds 90] [--reboot-seconds 60]
//                                  [--onboard-rate 2000] [--scrape-seconds 60] [--repeats 5]
import { createSocket } from "node:dgram";
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../../agent/receiver/atomic-write";
import { fileSdGroups, renderFileSd } from "../../agent/receiver/file-sd";
import { FleetState } from "../../agent/receiver/fleet-state";
import { savePeriodMs } from "../../agent/receiver/fleet-store";
import { runBench, sleep, startChild, stopChild, waitUntil } from "./lib/children";
import { cpuMs, loadAverage, rssKb } from "./lib/proc-usage";
import { liveHeapBytes, openInspector, sampleSum, startReceiver, type ShippedReceiver } from "./lib/shipped-receiver";
import { udpSocketMemory } from "./lib/udp-socket";
import { sendTraps, v2cTemplate, type Template } from "./lib/v2c-traps";
import { emitBenchResult, type BenchRow } from "./report";

const { values: opts } = parseArgs({
  options: {
    nodes: { type: "string", default: "10000,100000" },
    "steady-seconds": { type: "string", default: "90" },
    "reboot-seconds": { type: "string", default: "60" },
    "onboard-rate": { type: "string", default: "2000" },
    "scrape-seconds": { type: "string", default: "60" },
    repeats: { type: "string", default: "5" },
  },
});
const FLEETS = opts.nodes!.split(",").map(Number);
const STEADY_S = Number(opts["steady-seconds"]);
const REBOOT_S = Number(opts["reboot-seconds"]);
const ONBOARD_RATE = Number(opts["onboard-rate"]);
const SCRAPE_S = Number(opts["scrape-seconds"]);
const REPEATS = Number(opts.repeats);
/** run.heartbeat's default, 5m. */
const HEARTBEAT_S = 300;
/** How long the receiver's CPU is read with no traffic, empty and then with the whole fleet known. */
const IDLE_S = 10;
const COMMUNITY = "edgebench";
const BUFFER = 8 * 1024 * 1024; // the receiver's default receiver.socketBuffer
const dir = mkdtempSync(join(tmpdir(), "ea-bench-fleet-"));

const round2 = (x: number) => Math.round(x * 100) / 100;
const round1 = (x: number) => Math.round(x * 10) / 10;
const mib = (kb: number) => round1(kb / 1024);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const msSince = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

interface Reading {
  received: number;
  dropped: number;
  known: number;
  saves: number;
  saveSeconds: number;
  renders: number;
  bytes: number;
}

function reading(text: string): Reading {
  return {
    received: sampleSum(text, "edge_fleet_receiver_notifications_received_total"),
    dropped: sampleSum(text, "edge_fleet_receiver_notifications_dropped_total"),
    known: sampleSum(text, "edge_fleet_nodes{"),
    saves: sampleSum(text, "edge_fleet_receiver_state_saves_total"),
    saveSeconds: sampleSum(text, "edge_fleet_receiver_state_save_seconds"),
    renders: sampleSum(text, "edge_fleet_receiver_metrics_renders_total"),
    bytes: Buffer.byteLength(text),
  };
}

/** One GET of /metrics (the whole body read), timed. */
async function scrape(url: string): Promise<{ ms: number; text: string }> {
  const start = process.hrtime.bigint();
  const text = await (await fetch(url)).text();
  return { ms: msSince(start), text };
}

/**
 * Waits until the receiver is quiet: its socket drained, then receiver.state's save period for a
 * fleet of `nodes` (2 s, or 0.6 ms per node up to 60 s) and 2 s more (a tick, with room), and no
 * state save under way (its temporary file gone). Reads the kernel and the file system only, not
 * /metrics.
 */
async function quiet(r: ShippedReceiver, nodes: number): Promise<void> {
  await waitUntil("the receiver's socket drained", () => (udpSocketMemory(r.port)?.queued ?? 0) === 0, 120_000, 100);
  const drained = Date.now();
  const temp = join(dirname(r.statePath), `.${basename(r.statePath)}.${r.child.pid}.tmp`);
  const waitMs = savePeriodMs(2000, nodes) + 2000;
  await waitUntil("the state save after the last change", () => Date.now() - drained >= waitMs && !existsSync(temp), waitMs + 120_000, 100);
}

/** Peak and mean VmRSS of a process, sampled every 200 ms until stopped. */
function rssSampler(pid: number): () => { peakKb: number; meanKb: number } {
  const samples = [rssKb(pid)];
  const timer = setInterval(() => samples.push(rssKb(pid)), 200);
  return () => {
    clearInterval(timer);
    samples.push(rssKb(pid));
    return { peakKb: Math.max(...samples), meanKb: samples.reduce((a, b) => a + b, 0) / samples.length };
  };
}

/** The plain way to write a file durably (the references for the receiver's writes). */
function writeAndSync(path: string, text: string): void {
  const fd = openSync(path, "w");
  writeSync(fd, text);
  fsyncSync(fd);
  closeSync(fd);
}

/** A bare Node HTTP server answering every GET with `bytes` bytes of text: the /metrics reference. */
async function staticServer(bytes: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const out = join(dir, `static-${bytes}.out`);
  const code = 'const b=Buffer.alloc(Number(process.argv[1]),"a");const s=require("node:http").createServer((q,r)=>{r.setHeader("content-type","text/plain");r.end(b)});s.listen(0,"127.0.0.1",()=>console.log(JSON.stringify({port:s.address().port})))';
  const child = startChild(process.execPath, ["-e", code, String(bytes)], out);
  let port = 0;
  await waitUntil("the static HTTP server", () => {
    port = Number(/"port":(\d+)/.exec(readFileSync(out, "utf8"))?.[1] ?? 0);
    return port > 0;
  });
  return { url: `http://127.0.0.1:${port}/metrics`, stop: () => stopChild(child) };
}

interface Sender {
  /** `count` datagrams at `rate`/s, node names 0..nodes-1 in turn, sequences continuing. */
  send(template: Template, rate: number, count: number, nodes: number): Promise<number>;
  /** One datagram from node 000000 (an in-process socket: one notification, no process start). */
  one(template: Template): Promise<void>;
}

function sender(port: number): Sender {
  // Every datagram of a fleet run gets a sequence number above all before it, so each is a node's
  // newer notification, never a duplicate.
  let next = 0x01000000;
  return {
    async send(template, rate, count, nodes) {
      const first = next;
      next += count;
      return (await sendTraps(port, rate, count, template, { nodes, firstSequence: first })).sent;
    },
    one(template) {
      const buf = Buffer.from(template.bytes);
      buf.writeUInt32BE(next++, template.seqOffset);
      for (const at of template.nameOffsets) buf.write("000000", at, "latin1");
      return new Promise((res) => {
        const s = createSocket("udp4");
        s.send(buf, port, "127.0.0.1", () => s.close(() => res()));
      });
    },
  };
}

interface Window {
  sent: number;
  received: number;
  dropped: number;
  /** Datagrams the receiver's socket dropped, full (the kernel's count). */
  socketDrops: number;
  scrapes: number;
  seconds: number;
  cpuMs: number;
  peakKb: number;
  meanKb: number;
}

/**
 * Sends a phase's traffic and measures the receiver over it (CPU up to 1 s after the last
 * datagram), scraping /metrics every SCRAPE_S seconds from half an interval in.
 */
async function window(r: ShippedReceiver, nodes: number, traffic: () => Promise<number>): Promise<Window> {
  const pid = r.child.pid!;
  await quiet(r, nodes);
  const before = reading((await scrape(r.metricsUrl)).text);
  const drops0 = udpSocketMemory(r.port)?.drops ?? 0;
  const stopRss = rssSampler(pid);
  let scrapes = 0;
  let scraping: Promise<unknown> = Promise.resolve();
  const scrapeEvery = () => {
    scraping = scrape(r.metricsUrl).then(() => scrapes++);
    timer = setTimeout(scrapeEvery, SCRAPE_S * 1000);
  };
  let timer = SCRAPE_S > 0 ? setTimeout(scrapeEvery, (SCRAPE_S * 1000) / 2) : undefined;
  const cpu0 = cpuMs(pid);
  const t0 = process.hrtime.bigint();
  const sent = await traffic();
  await sleep(1000);
  clearTimeout(timer);
  await scraping;
  const cpu = cpuMs(pid) - cpu0;
  const seconds = msSince(t0) / 1000;
  const { peakKb, meanKb } = stopRss();
  await quiet(r, nodes);
  const after = reading((await scrape(r.metricsUrl)).text);
  const received = after.received - before.received;
  if (received === 0) throw new Error(`the receiver processed none of the ${sent} notifications sent: see ${r.log}`);
  const socketDrops = (udpSocketMemory(r.port)?.drops ?? 0) - drops0;
  return { sent, received, dropped: after.dropped - before.dropped, socketDrops, scrapes, seconds, cpuMs: cpu, peakKb, meanKb };
}

async function measureFleet(n: number, templates: { up: Template; down: Template; started: Template }): Promise<BenchRow[]> {
  const r = await startReceiver({ dir, tag: `fleet-${n}`, community: COMMUNITY, socketBuffer: BUFFER, nodeFlags: ["--inspect-port=0"] });
  const pid = r.child.pid!;
  const out = sender(r.port);
  try {
    const inspector = await openInspector(r.child, r.log);
    await sleep(2000);
    const heap0 = liveHeapBytes(inspector);
    await sleep(1000);
    const rss0 = rssKb(pid);
    const idle0 = cpuMs(pid);
    await sleep(IDLE_S * 1000);
    const idlePct = (cpuMs(pid) - idle0) / (IDLE_S * 10);
    console.log(`\n${n} nodes. Empty receiver (inspector open): RSS ${mib(rss0)} MiB after a full GC, live heap ${round1(heap0 / 1048576)} MiB, idle CPU ${idlePct.toFixed(2)}% of one CPU over ${IDLE_S} s`);

    // 1. Onboarding.
    const onboardStart = process.hrtime.bigint();
    const onboardCpu0 = cpuMs(pid);
    const stopOnboardRss = rssSampler(pid);
    let passes = 0;
    let knownAfterFirst = 0;
    let known = 0;
    for (; passes < 6 && known < n; passes++) {
      await out.send(templates.up, ONBOARD_RATE, n, n);
      await waitUntil("the receiver's socket drained", () => (udpSocketMemory(r.port)?.queued ?? 0) === 0, 120_000, 100);
      known = reading((await scrape(r.metricsUrl)).text).known;
      if (passes === 0) knownAfterFirst = known;
    }
    const onboardS = msSince(onboardStart) / 1000;
    const onboardCpuS = (cpuMs(pid) - onboardCpu0) / 1000;
    const onboardRss = stopOnboardRss();
    if (known < n) throw new Error(`the receiver knows ${known} of the ${n} nodes after ${passes} passes at ${ONBOARD_RATE}/s (edge_fleet_nodes): no figure here would be for ${n} nodes; see ${r.log}`);
    console.log(`  onboarding: ${n} nodes known after ${onboardS.toFixed(1)} s (${passes} pass${passes > 1 ? "es" : ""} at ${ONBOARD_RATE}/s; ${knownAfterFirst} known after the first), ${onboardCpuS.toFixed(1)} s of CPU, peak RSS ${mib(onboardRss.peakKb)} MiB`);

    // The fleet at rest: every node known, nothing arriving (the 1 s tick's sweep of the fleet).
    await quiet(r, n);
    const rest0 = cpuMs(pid);
    await sleep(IDLE_S * 1000);
    const restPct = (cpuMs(pid) - rest0) / (IDLE_S * 10);
    console.log(`  at rest with ${n} nodes known, nothing arriving: CPU ${restPct.toFixed(2)}% of one CPU over ${IDLE_S} s`);

    // 2. Steady state at the default heartbeat.
    const steadyRate = n / HEARTBEAT_S;
    const steady = await window(r, n, () => out.send(templates.up, steadyRate, Math.round(steadyRate * STEADY_S), n));
    const steadyHeap = liveHeapBytes(inspector);
    await sleep(1000);
    const steadyGcKb = rssKb(pid);
    const steadyLoss = steady.sent - steady.received;
    const steadyPct = steady.cpuMs / (steady.seconds * 10);
    const steadyUs = (steady.cpuMs * 1000) / steady.received;
    console.log(`  steady state, ${steadyRate.toFixed(1)} notifications/s for ${STEADY_S} s: sent ${steady.sent}, processed ${steady.received} (lost ${steadyLoss}, socket drops ${steady.socketDrops}, refused ${steady.dropped}), ${steady.scrapes} scrape(s); CPU ${steadyPct.toFixed(1)}% of one CPU, ${steadyUs.toFixed(0)} µs per notification; RSS peak ${mib(steady.peakKb)} MiB, mean ${mib(steady.meanKb)} MiB, ${mib(steadyGcKb)} MiB after a full GC (live heap ${round1(steadyHeap / 1048576)} MiB)`);

    // 3. Fleet-wide reboot.
    const rebootRate = n / REBOOT_S;
    const reboot = await window(r, n, () => out.send(templates.started, rebootRate, n, n));
    liveHeapBytes(inspector);
    await sleep(1000);
    const rebootGcKb = rssKb(pid);
    const rebootLoss = reboot.sent - reboot.received;
    const rebootPct = reboot.cpuMs / (reboot.seconds * 10);
    const rebootUs = (reboot.cpuMs * 1000) / reboot.received;
    console.log(`  reboot, every node's edgeAgentStarted within ${REBOOT_S} s (${rebootRate.toFixed(0)}/s): sent ${reboot.sent}, processed ${reboot.received} (lost ${rebootLoss}, socket drops ${reboot.socketDrops}, refused ${reboot.dropped}), ${reboot.scrapes} scrape(s); CPU ${rebootPct.toFixed(1)}% of one CPU, ${rebootUs.toFixed(0)} µs per notification; RSS peak ${mib(reboot.peakKb)} MiB, ${mib(rebootGcKb)} MiB after a full GC`);

    // 4. Outputs after one node's state changes, the fleet otherwise quiet.
    await quiet(r, n);
    let last = reading((await scrape(r.metricsUrl)).text);
    const sdWaits: number[] = [];
    const fresh: number[] = [];
    const saves: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const mtime = statSync(r.fileSdPath).mtimeMs;
      const t0 = process.hrtime.bigint();
      await out.one(i % 2 === 0 ? templates.down : templates.up);
      await waitUntil("the file_sd file rewritten after the change", () => statSync(r.fileSdPath).mtimeMs !== mtime, 10_000, 5);
      sdWaits.push(msSince(t0));
      const got = await scrape(r.metricsUrl);
      const now = reading(got.text);
      if (now.renders !== last.renders + 1) throw new Error(`GET /metrics after a change rendered ${now.renders - last.renders} times, not once: the time would not be of a render`);
      fresh.push(got.ms);
      await quiet(r, n);
      last = reading((await scrape(r.metricsUrl)).text);
      if (last.saves <= now.saves) throw new Error("the receiver did not save its state after the change: no save time to report");
      saves.push(last.saveSeconds * 1000);
    }
    const cached: number[] = [];
    for (let i = 0; i < REPEATS; i++) cached.push((await scrape(r.metricsUrl)).ms);
    const metricsBytes = last.bytes;
    const reference = await staticServer(metricsBytes);
    const bare: number[] = [];
    try {
      for (let i = 0; i < REPEATS; i++) bare.push((await scrape(reference.url)).ms);
    } finally {
      await reference.stop();
    }

    // file_sd rendered and written with the receiver's code on the fleet it saved, and the references.
    const stateText = readFileSync(r.statePath, "utf8");
    const fleet = new FleetState({ defaultHeartbeatMs: HEARTBEAT_S * 1000, staleAfterHeartbeats: 3, forgetAfterMs: 7 * 86_400_000, maxNodes: n }, Date.now());
    fleet.restore(JSON.parse(stateText));
    const sdRender: number[] = [];
    const sdWrite: number[] = [];
    const sdBare: number[] = [];
    let sdText = "";
    for (let i = 0; i < REPEATS; i++) {
      let t = process.hrtime.bigint();
      sdText = renderFileSd(fileSdGroups(fleet));
      sdRender.push(msSince(t));
      t = process.hrtime.bigint();
      writeFileAtomic(join(dir, "sd-copy.yml"), sdText);
      sdWrite.push(msSince(t));
      t = process.hrtime.bigint();
      writeAndSync(join(dir, "sd-bare.yml"), sdText);
      sdBare.push(msSince(t));
    }
    const sdBytes = statSync(r.fileSdPath).size;
    const saved = JSON.parse(stateText) as unknown;
    const jsonMs: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const t = process.hrtime.bigint();
      writeAndSync(join(dir, "state-bare.json"), JSON.stringify(saved));
      jsonMs.push(msSince(t));
    }
    const stateBytes = statSync(r.statePath).size;
    console.log(`  outputs (median of ${REPEATS}): /metrics ${(metricsBytes / 1e6).toFixed(1)} MB: GET after a change ${median(fresh).toFixed(0)} ms, unchanged ${median(cached).toFixed(0)} ms, static body of that size from bare Node ${median(bare).toFixed(0)} ms; file_sd ${(sdBytes / 1e6).toFixed(2)} MB rewritten ${median(sdWaits).toFixed(0)} ms after the change (tick included), render ${median(sdRender).toFixed(0)} ms + atomic write ${median(sdWrite).toFixed(0)} ms here (write + fsync ${median(sdBare).toFixed(0)} ms); state file ${(stateBytes / 1e6).toFixed(1)} MB saved in ${median(saves).toFixed(0)} ms (JSON.stringify + write + fsync ${median(jsonMs).toFixed(0)} ms)`);

    const at = `${n} nodes`;
    const ratio = (v: number, ref: number) => (ref > 0 ? round2(v / ref) : null);
    const lossNote = (w: Window, rate: number, seconds: number) => `${w.sent} sent at ${round1(rate)}/s over ${seconds} s, ${w.received} processed, ${w.dropped} refused after decoding (duplicate, invalid, fleet full...), ${w.socketDrops} dropped by the full socket buffer`;
    return [
      { metric: `onboarding, ${at} flooded in at ${ONBOARD_RATE}/s until all known`, value: round1(onboardS), unit: "s", reference: round1(n / ONBOARD_RATE), referenceName: "sending time alone", ratio: ratio(onboardS, n / ONBOARD_RATE), target: null, pass: null, note: `${passes} pass(es); ${knownAfterFirst} known after the first; ${round1(onboardCpuS)} s of receiver CPU; peak RSS ${mib(onboardRss.peakKb)} MiB` },
      { metric: `steady state (5 min heartbeat, ${round1(steadyRate)}/s), ${at}: RSS peak`, value: mib(steady.peakKb), unit: "MiB", reference: mib(rss0), referenceName: "empty receiver, after a full GC", ratio: ratio(steady.peakKb, rss0), target: null, pass: null, note: `${steady.scrapes} /metrics scrape(s) in the window; mean ${mib(steady.meanKb)} MiB; ${mib(steadyGcKb)} MiB after a full GC; live heap ${round1(steadyHeap / 1048576)} MiB (empty ${round1(heap0 / 1048576)})` },
      { metric: `steady state (5 min heartbeat), ${at}: receiver CPU`, value: round2(steadyPct), unit: "% of one CPU", reference: round2(restPct), referenceName: "same receiver, same fleet, nothing arriving", ratio: ratio(steadyPct, restPct), target: null, pass: null, note: `over ${round1(steady.seconds)} s with ${steady.scrapes} /metrics scrape(s) and the state file's saves; the empty receiver idle: ${round2(idlePct)}%` },
      { metric: `steady state (5 min heartbeat), ${at}: CPU per notification`, value: Math.round(steadyUs), unit: "µs", reference: null, ratio: null, target: null, pass: null },
      { metric: `steady state (5 min heartbeat), ${at}: notifications lost`, value: steadyLoss, unit: "notifications", reference: steady.sent, referenceName: "sent", ratio: ratio(steadyLoss, steady.sent), target: "0", pass: steadyLoss === 0, note: lossNote(steady, steadyRate, STEADY_S) },
      { metric: `fleet-wide reboot (every node within ${REBOOT_S} s, ${Math.round(rebootRate)}/s), ${at}: RSS peak`, value: mib(reboot.peakKb), unit: "MiB", reference: mib(rss0), referenceName: "empty receiver, after a full GC", ratio: ratio(reboot.peakKb, rss0), target: null, pass: null, note: `${mib(rebootGcKb)} MiB after a full GC` },
      { metric: `fleet-wide reboot, ${at}: receiver CPU`, value: round2(rebootPct), unit: "% of one CPU", reference: round2(restPct), referenceName: "same receiver, same fleet, nothing arriving", ratio: ratio(rebootPct, restPct), target: null, pass: null, note: `${Math.round(rebootUs)} µs per notification over ${round1(reboot.seconds)} s with ${reboot.scrapes} /metrics scrape(s)` },
      { metric: `fleet-wide reboot, ${at}: notifications lost`, value: rebootLoss, unit: "notifications", reference: reboot.sent, referenceName: "sent", ratio: ratio(rebootLoss, reboot.sent), target: "0", pass: rebootLoss === 0, note: lossNote(reboot, rebootRate, REBOOT_S) },
      { metric: `/metrics body, ${at}`, value: round2(metricsBytes / 1e6), unit: "MB", reference: null, ratio: null, target: null, pass: null, note: `${Math.round(metricsBytes / n)} bytes per node` },
      { metric: `GET /metrics right after a fleet change (render + transfer), ${at}`, value: Math.round(median(fresh)), unit: "ms", reference: Math.round(median(bare)), referenceName: "the same size static from a bare Node HTTP server", ratio: ratio(median(fresh), median(bare)), target: null, pass: null, note: `median of ${REPEATS}; nothing changed (cached text): ${Math.round(median(cached))} ms` },
      { metric: `file_sd render + atomic write (receiver's code, in the bench), ${at}`, value: Math.round(median(sdRender) + median(sdWrite)), unit: "ms", reference: Math.round(median(sdBare)), referenceName: "write + fsync of the same text", ratio: ratio(median(sdRender) + median(sdWrite), median(sdBare)), target: null, pass: null, note: `file ${(sdBytes / 1e6).toFixed(2)} MB; render ${Math.round(median(sdRender))} ms; in the receiver, a change to the file's rewrite took ${Math.round(median(sdWaits))} ms (its 1 s tick included)` },
      { metric: `fleet state save (receiver's edge_fleet_receiver_state_save_seconds), ${at}`, value: Math.round(median(saves)), unit: "ms", reference: Math.round(median(jsonMs)), referenceName: "JSON.stringify + write + fsync of the same records", ratio: ratio(median(saves), median(jsonMs)), target: null, pass: null, note: `file ${(stateBytes / 1e6).toFixed(1)} MB; the receiver writes in pieces between datagrams` },
    ];
  } finally {
    await stopChild(r.child);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`Fleet bench: the shipped receiver with ${FLEETS.join(" and ")} distinct nodes over loopback; ${cpus().length} CPUs (${cpus()[0]?.model}), node ${process.version}, load average ${loadAverage()} at the start`);
  const up = await v2cTemplate(COMMUNITY);
  const down = await v2cTemplate(COMMUNITY, "serviceDown", { edgeAgentNodeExporterUp: false, edgeAgentEventService: "nodeExporter", edgeAgentEventSummary: "bench service down" });
  const rebooted = await v2cTemplate(COMMUNITY, "agentStarted", { edgeAgentEventSummary: "bench agent started" });
  const rows: BenchRow[] = [];
  for (const n of FLEETS) rows.push(...(await measureFleet(n, { up, down, started: rebooted })));
  console.log(`\nLoad average at the end: ${loadAverage()}; ${((Date.now() - started) / 60_000).toFixed(1)} minutes in all`);
  emitBenchResult("fleet", rows);
}

runBench(main, dir);
