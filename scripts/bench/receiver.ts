// Receiver throughput and memory, side by side with Net-SNMP's snmptrapd on this machine.
//   npx tsx scripts/bench/receiver.ts [--seconds 3] [--rates 2500,5000,...] [--nodes 10000]
// 1. Zero-loss sustained v2c rate: for each rate step, a separate sender process sends `seconds`
//    worth of distinct EDGE-AGENT-MIB traps over loopback; a receiver keeps zero loss at a rate
//    when every trap was processed (the receiver's notifications_received_total; snmptrapd's
//    trap log lines in its -Lf file). Steps go up until a receiver loses one; a loss is retried
//    once, so one scheduling hiccup on a shared machine does not end the run.
// 2. Memory with 10,000 distinct nodes: RSS of the receiver before and after every node reported.
// Both receivers log every trap to a file. Loopback only; a couple of minutes at most.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import snmp from "net-snmp";
import { oidTree } from "../../agent/snmp/oid-tree";
import { toVarbinds } from "../../agent/snmp/varbinds";
import { unitCommand } from "../../test/helpers/unit-exec";
import { emitBenchResult } from "./report";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const SECONDS = Number(opt("seconds", "3"));
const RATES = opt("rates", "1000,2500,5000,7500,10000,15000,20000,25000,30000,40000").split(",").map(Number);
const NODES = Number(opt("nodes", "10000"));
const ROOT = resolve(__dirname, "../..");
const COMMUNITY = "edgebench";
const tree = oidTree();
const dir = mkdtempSync(join(tmpdir(), "ea-bench-receiver-"));
const MIB_DIR = join(ROOT, "node_modules/net-snmp/lib/mibs");
const children: ChildProcess[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freeUdpPort(): Promise<number> {
  return new Promise((res) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

/** One encoded trap (as net-snmp sends it), captured from the wire. */
async function template(): Promise<Buffer> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const got = new Promise<Buffer>((r) => s.once("message", (m) => r(m)));
  const session = snmp.createSession("127.0.0.1", COMMUNITY, { version: snmp.Version2c, trapPort: s.address().port });
  const values = {
    edgeAgentHostName: "n00000", edgeAgentTailnetName: "n00000.example-tailnet.ts.net", edgeAgentTailnetTags: "tag:monitor",
    edgeAgentTailnetAddresses: "127.0.0.1", edgeAgentTailnetState: "Running", edgeAgentPrimaryPrefix: "2001:db8:100:1::/64",
    edgeAgentPrefixInAllocation: "inside", edgeAgentScraperPath: "direct", edgeAgentScraperFamily: "ipv6",
    edgeAgentScraperEndpoint: "[2001:db8:200:1::1]:41641", edgeAgentNodeExporterUp: true, edgeAgentSnmpdUp: true,
    edgeAgentFirewallPort: 41641, edgeAgentFirewallInboundIpv6: "accept", edgeAgentFirewallInboundIpv4: "accept",
    edgeAgentFirewallOutboundIpv6: "accept", edgeAgentFirewallOutboundIpv4: "accept", edgeAgentFirewallForwardIpv6: "unknown",
    edgeAgentVersion: "0.1.0", edgeAgentNotificationSequence: 0x01020304, edgeAgentEventTime: new Date().toISOString(),
    edgeAgentEventSummary: "bench heartbeat", edgeAgentEventService: "none",
  };
  session.trap(tree.notificationOid("heartbeat"), toVarbinds(tree, values), () => session.close());
  const buf = await got;
  s.close();
  return buf;
}

function startChild(command: string, argv: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const fd = openSync(logFile, "w");
  const child = spawn(command, argv, { stdio: ["ignore", fd, fd], env });
  closeSync(fd);
  children.push(child);
  return child;
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

function send(port: number, rate: number, count: number, tpl: Buffer, seqOffset: number, nameOffsets: number[] = [], nodes = 0): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "receiver-sender.ts"), String(port), String(rate), String(count), tpl.toString("hex"), String(seqOffset), nameOffsets.join(","), String(nodes)], { stdio: ["ignore", "pipe", "inherit"], cwd: ROOT });
    child.on("exit", (code) => (code === 0 ? res() : rej(new Error(`sender exited ${code}`))));
  });
}

interface Subject {
  name: string;
  port: number;
  processed: () => Promise<number>;
}

async function metric(url: string, prefix: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return text.split("\n").filter((l) => l.startsWith(prefix)).reduce((s, l) => s + Number(l.split(" ").pop()), 0);
}

let built: string | null = null;
/** scripts/build.sh's bundle, built once per run. */
function bundle(): string {
  if (!built) {
    const out = join(dir, "bundle");
    const build = spawnSync("bash", [join(ROOT, "scripts/build.sh")], { env: { ...process.env, BUNDLE_OUT: out }, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`scripts/build.sh failed: ${build.stderr}`);
    built = join(out, "edge-agent");
  }
  return built;
}

async function startReceiver(tag: string): Promise<{ child: ChildProcess; subject: Subject; metricsUrl: string }> {
  const port = await freeUdpPort();
  const metricsPort = await freeUdpPort();
  const config = join(dir, `receiver-${tag}.yaml`);
  writeFileSync(config, [
    "receiver:",
    `  listen: ["udp:127.0.0.1:${port}"]`,
    `  communities: [${COMMUNITY}]`,
    `  metrics: "127.0.0.1:${metricsPort}"`,
    `  fileSd: ${join(dir, `sd-${tag}.yml`)}`,
    `  state: ${join(dir, `fleet-${tag}.json`)}`,
  ].join("\n"));
  const log = join(dir, `receiver-${tag}.log`);
  // The package's program as edge-agent-receiver.service starts it.
  const { argv, env } = unitCommand(bundle(), ["receive", "--config", config], "edge-agent-receiver.service");
  const child = startChild(argv[0], argv.slice(1), log, env);
  await waitUntil("receiver start", () => readFileSync(log, "utf8").includes('"receiver started"'));
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  return { child, metricsUrl, subject: { name: "edge-agent receive", port, processed: () => metric(metricsUrl, "edge_fleet_receiver_notifications_received_total") } };
}

/** snmptrapd as Debian runs it, logging to a file; with recvBuf, its socket buffer set like ours. */
async function startSnmptrapd(recvBuf: number | null): Promise<Subject & { child: ChildProcess }> {
  const port = await freeUdpPort();
  const tag = recvBuf ? "buf" : "default";
  const conf = join(dir, `snmptrapd-${tag}.conf`);
  writeFileSync(conf, `authCommunity log ${COMMUNITY}\n${recvBuf ? `[snmp] serverRecvBuf ${recvBuf}\n` : ""}`);
  const log = join(dir, `snmptrapd-${tag}.log`);
  writeFileSync(log, "");
  const child = startChild("snmptrapd", ["-f", "-n", "-C", "-c", conf, "-Lf", log, "-p", join(dir, `snmptrapd-${tag}.pid`), `udp:127.0.0.1:${port}`], join(dir, `snmptrapd-${tag}.out`), {
    ...process.env, MIBS: "", MIBDIRS: MIB_DIR, SNMP_PERSISTENT_DIR: join(dir, `snmptrapd-${tag}-persist`),
  });
  await waitUntil("snmptrapd start", () => readFileSync(log, "utf8").includes("NET-SNMP version"));
  // Each trap's log entry names its transport once: "[UDP: [127.0.0.1]:port->...]".
  const count = () => (readFileSync(log, "latin1").match(/\[UDP: \[/g) ?? []).length;
  return { child, name: recvBuf ? "snmptrapd (big buf)" : "snmptrapd", port, processed: async () => count() };
}

/** The socket receive buffer the kernel gave a UDP port (ss's skmem rb), in bytes. */
function recvBuffer(port: number): number {
  const out = spawnSync("ss", ["-ulmn", `sport = :${port}`], { encoding: "utf8" }).stdout;
  const m = /rb(\d+)/.exec(out);
  return m ? Number(m[1]) : NaN;
}

async function step(subject: Subject, rate: number, tpl: Buffer, seqOffset: number): Promise<{ sent: number; got: number }> {
  const before = await subject.processed();
  const count = Math.round(rate * SECONDS);
  await send(subject.port, rate, count, tpl, seqOffset);
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

async function highestZeroLoss(subject: Subject, tpl: Buffer, seqOffset: number): Promise<number> {
  let best = 0;
  for (const rate of RATES) {
    let r = await step(subject, rate, tpl, seqOffset);
    if (r.got < r.sent) {
      console.log(`  ${subject.name.padEnd(18)} ${String(rate).padStart(6)}/s: lost ${r.sent - r.got} of ${r.sent}; retrying once`);
      r = await step(subject, rate, tpl, seqOffset);
    }
    const loss = r.sent - r.got;
    console.log(`  ${subject.name.padEnd(18)} ${String(rate).padStart(6)}/s: sent ${r.sent}, processed ${r.got}${loss > 0 ? `, LOST ${loss} (${((100 * loss) / r.sent).toFixed(2)}%)` : ", no loss"}`);
    if (loss > 0) break;
    best = rate;
  }
  return best;
}

async function main(): Promise<void> {
  const tpl = await template();
  const seqMarker = Buffer.from([0x42, 0x04, 0x01, 0x02, 0x03, 0x04]);
  const seqOffset = tpl.indexOf(seqMarker) + 2;
  if (seqOffset < 2) throw new Error("cannot find the sequence number in the encoded template");
  const nameOffsets: number[] = [];
  for (let at = tpl.indexOf("n00000"); at >= 0; at = tpl.indexOf("n00000", at + 1)) nameOffsets.push(at + 1);
  console.log(`Receiver bench: ${SECONDS} s per step, distinct v2c EDGE-AGENT-MIB traps of ${tpl.length} bytes over loopback, both logging every trap to a file.`);
  console.log(`node ${process.version}, ${spawnSync("snmptrapd", ["--version"], { encoding: "utf8" }).stdout.split("\n").find((l) => l.includes("NET-SNMP")) ?? "snmptrapd"}`);

  const receiver = await startReceiver("rate");
  const ourBuf = recvBuffer(receiver.subject.port);
  const trapd = await startSnmptrapd(null);
  const trapdBuf = recvBuffer(trapd.port);
  console.log(`Socket receive buffers: edge-agent receive ${(ourBuf / 1048576).toFixed(1)} MiB (it asks for 8 MiB, the kernel caps at net.core.rmem_max), snmptrapd ${(trapdBuf / 1024).toFixed(0)} KiB by default`);
  const trapdBest = await highestZeroLoss(trapd, tpl, seqOffset);
  trapd.child.kill("SIGTERM");
  // snmptrapd again with the same buffer (Net-SNMP's serverRecvBuf; the kernel doubles what is asked).
  const trapdBig = await startSnmptrapd(Math.round(ourBuf / 2));
  const trapdBigBest = await highestZeroLoss(trapdBig, tpl, seqOffset);
  trapdBig.child.kill("SIGTERM");
  const ourBest = await highestZeroLoss(receiver.subject, tpl, seqOffset);
  receiver.child.kill("SIGTERM");

  // A rate of 0 means nothing was processed even at the lowest step: no measurement happened.
  for (const [name, best] of [["edge-agent receive", ourBest], ["snmptrapd", trapdBest], ["snmptrapd (same buffer)", trapdBigBest]] as const)
    if (best === 0) throw new Error(`${name} lost notifications at the lowest rate tried (${RATES[0]}/s): check its log in ${dir}; no rate was measured`);
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : a > 0 ? "infinite (snmptrapd lost traps at every rate tried)" : "n/a");
  console.log("");
  console.log(`Highest zero-loss rate: edge-agent receive ${ourBest}/s; snmptrapd ${trapdBest}/s (default buffer), ${trapdBigBest}/s (same buffer as the receiver)`);
  console.log(`Ratio: ${ratio(ourBest, trapdBest)} vs snmptrapd as shipped (target >= 2x); ${ratio(ourBest, trapdBigBest)} vs snmptrapd with the same socket buffer`);
  if (ourBest === RATES[RATES.length - 1]) console.log(`(the receiver kept zero loss at the highest step tried; raise --rates to find its limit)`);
  console.log(`Load average during the run: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")} (on ${cpus().length} CPUs; rates on a shared machine are noisy)`);

  // Memory with many distinct nodes.
  const mem = await startReceiver("memory");
  const pid = mem.child.pid!;
  await sleep(500);
  const before = rssKb(pid);
  // Passes over the node names at a modest rate until every node is known (a datagram lost on
  // a busy machine is made up by the next pass), at most four.
  for (let pass = 0; pass < 4 && (await metric(mem.metricsUrl, "edge_fleet_nodes{")) < NODES; pass++) {
    await send(mem.subject.port, 5000, NODES, tpl, seqOffset, nameOffsets, NODES);
    await sleep(1000);
  }
  const known = await metric(mem.metricsUrl, "edge_fleet_nodes{");
  if (known < NODES) throw new Error(`the receiver knows ${known} of the ${NODES} nodes sent after 4 passes: the memory figure would not be for ${NODES} nodes`);
  // One scrape of the per-node metrics, as Prometheus would do.
  const scrapeStart = Date.now();
  const size = (await (await fetch(mem.metricsUrl)).text()).length;
  const scrapeMs = Date.now() - scrapeStart;
  await sleep(3000);
  const after = rssKb(pid);
  console.log(`Memory: RSS ${(before / 1024).toFixed(1)} MiB with 0 nodes, ${(after / 1024).toFixed(1)} MiB with ${known} nodes (${((after - before) / known).toFixed(2)} KiB per node); /metrics ${(size / 1e6).toFixed(1)} MB rendered in ${scrapeMs} ms`);
  emitBenchResult("receiver", [
    { metric: "highest zero-loss v2c rate", value: ourBest, unit: "notifications/s", reference: trapdBest, referenceName: "snmptrapd as shipped", ratio: trapdBest ? Number((ourBest / trapdBest).toFixed(2)) : null, target: ">= 2x", pass: trapdBest ? ourBest / trapdBest >= 2 : null },
    { metric: "highest zero-loss v2c rate, same socket buffer", value: ourBest, unit: "notifications/s", reference: trapdBigBest, referenceName: "snmptrapd, same buffer", ratio: trapdBigBest ? Number((ourBest / trapdBigBest).toFixed(2)) : null, target: null, pass: null },
    { metric: `RSS with ${known} nodes`, value: Number((after / 1024).toFixed(1)), unit: "MiB", reference: Number((before / 1024).toFixed(1)), referenceName: "with 0 nodes", ratio: Number((after / before).toFixed(2)), target: "bounded", pass: null },
  ]);
  mem.child.kill("SIGTERM");
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    await sleep(500);
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });
