// The receiver's fleet state file (receiver.state) at 10,000, 50,000 and 100,000 nodes, in this
// process, the format as shipped side by side with the previous one (version 2, kept here only as
// the reference) in the same run:
// - the background save (FleetStore's, in pieces with asynchronous I/O, fsync and rename): wall
//   time, and the longest the event loop was held up meanwhile (perf_hooks' event loop delay);
// - the file's size per node; the synchronous save at shutdown; loading it at start.
// Each node sends what scripts/bench/receiver.ts's nodes send, two heartbeats five minutes apart.
//   npx tsx scripts/bench/receiver-state.ts [--nodes 10000,50000,100000] [--runs 3]
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import pino from "pino";
import type { FileWriter } from "../../agent/receiver/fleet-file";
import { FleetState, type NodeRecord } from "../../agent/receiver/fleet-state";
import { FleetStore } from "../../agent/receiver/fleet-store";
import { OBJECTS } from "../../agent/snmp/oid-tree";
import { nodeValues } from "./lib/node-values";
import { emitBenchResult, type BenchRow } from "./report";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const NODE_STEPS = opt("nodes", "10000,50000,100000").split(",").map(Number);
const RUNS = Number(opt("runs", "3"));
const HEARTBEAT_MS = 5 * 60_000;
const dir = mkdtempSync(join(tmpdir(), "ea-bench-state-"));
const log = pino({ level: "silent" });
const round2 = (n: number) => Math.round(n * 100) / 100;

function fleetOf(nodes: number): FleetState {
  const t0 = Date.now() - 2 * HEARTBEAT_MS;
  const fleet = new FleetState({ defaultHeartbeatMs: HEARTBEAT_MS, staleAfterHeartbeats: 3, forgetAfterMs: 7 * 86_400_000, maxNodes: nodes }, t0);
  for (let i = 0; i < nodes; i++) {
    const node = `n${String(i).padStart(6, "0")}`;
    const source = `100.64.${(i >> 8) & 255}.${i & 255}`;
    fleet.apply(nodeValues(node, 1, new Date(t0)), "heartbeat", t0 + 40, source);
    fleet.apply(nodeValues(node, 2, new Date(t0 + HEARTBEAT_MS)), "heartbeat", t0 + HEARTBEAT_MS + 40, source);
  }
  return fleet;
}

/** Version 2, the format before this one: field names per node, values as an array (the reference). */
class VersionTwoWriter implements FileWriter {
  private static readonly NAMES = OBJECTS.map((o) => o.name);
  private parts: string[] = [`{"version":2,"objects":${JSON.stringify(VersionTwoWriter.NAMES)},"nodes":[`];
  private first = true;
  record(r: NodeRecord): void {
    const values = r.values;
    const text = JSON.stringify({
      node: r.node, lastSeenMs: r.lastSeenMs, lastSequence: r.lastSequence, lastEventMs: r.lastEventMs, window: r.window,
      lastEvent: r.lastEvent, source: r.source, lastHeartbeatEventMs: r.lastHeartbeatEventMs, heartbeatGapsMs: r.heartbeatGapsMs,
      values: VersionTwoWriter.NAMES.map((name) => values[name] ?? null),
    });
    this.parts.push(this.first ? text : `,${text}`);
    this.first = false;
  }
  end(): void {
    this.parts.push("]}\n");
  }
  take(): Buffer {
    const out = Buffer.from(this.parts.join(""));
    this.parts = [];
    return out;
  }
}

interface Figures {
  saveMs: number;
  blockMs: number;
  bytes: number;
  syncSaveMs: number;
  loadMs: number;
}

/** One background save, the synchronous save and a load of what it wrote, in `format`. */
async function measure(fleet: FleetState, format: "v2" | "v3"): Promise<Figures> {
  const path = join(dir, `fleet-${format}.state`);
  const newWriter = format === "v2" ? () => new VersionTwoWriter() : undefined;
  const store = new FleetStore(path, fleet, log, 0, newWriter);
  fleet.outsideChange();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  store.changed();
  while (store.writes === 0 && store.failures === 0) await new Promise((r) => setTimeout(r, 5));
  delay.disable();
  if (store.failures > 0) throw new Error(`the ${format} save failed`);
  const saveMs = store.lastSaveMs;
  const bytes = statSync(path).size;
  fleet.outsideChange();
  store.save();
  const syncSaveMs = store.lastSaveMs;
  const loaded = new FleetState(fleet.options, Date.now());
  const start = performance.now();
  new FleetStore(path, loaded, log).load();
  const loadMs = performance.now() - start;
  if (loaded.nodes.size !== fleet.nodes.size) throw new Error(`the ${format} file loaded ${loaded.nodes.size} of ${fleet.nodes.size} nodes`);
  rmSync(path, { force: true });
  return { saveMs, blockMs: delay.max / 1e6, bytes, syncSaveMs, loadMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const nodes of NODE_STEPS) {
    const fleet = fleetOf(nodes);
    const runs: Record<"v2" | "v3", Figures[]> = { v2: [], v3: [] };
    // Alternated, so load on the machine weighs on both alike.
    for (let i = 0; i < RUNS; i++) for (const format of ["v2", "v3"] as const) runs[format].push(await measure(fleet, format));
    const pick = (format: "v2" | "v3", key: keyof Figures) => median(runs[format].map((f) => f[key]));
    const worst = (format: "v2" | "v3", key: keyof Figures) => Math.max(...runs[format].map((f) => f[key]));
    for (const format of ["v2", "v3"] as const) {
      console.log(`  ${nodes} nodes, ${format}: ${(pick(format, "bytes") / nodes).toFixed(0)} B/node (${(pick(format, "bytes") / 1e6).toFixed(1)} MB); background save ${runs[format].map((f) => f.saveMs).join(", ")} ms, event loop held up at most ${worst(format, "blockMs").toFixed(1)} ms; synchronous save ${pick(format, "syncSaveMs")} ms; load ${pick(format, "loadMs").toFixed(0)} ms`);
    }
    const save = pick("v3", "saveMs") / 1000;
    const save2 = pick("v2", "saveMs") / 1000;
    const perNode = pick("v3", "bytes") / nodes;
    const perNode2 = pick("v2", "bytes") / nodes;
    const big = nodes >= 100_000;
    rows.push(
      { metric: `fleet state save (wall, median of ${RUNS}), ${nodes} nodes`, value: round2(save), unit: "s", reference: round2(save2), referenceName: "format version 2", ratio: round2(save / save2), target: big ? "<= 1 s" : null, pass: big ? save <= 1 : null },
      { metric: `fleet state file per node, ${nodes} nodes`, value: Math.round(perNode), unit: "B", reference: Math.round(perNode2), referenceName: "format version 2", ratio: round2(perNode / perNode2), target: null, pass: null },
      { metric: `event loop held up during a save (max), ${nodes} nodes`, value: round2(worst("v3", "blockMs")), unit: "ms", reference: round2(worst("v2", "blockMs")), referenceName: "format version 2", ratio: null, target: null, pass: null },
    );
  }
  return rows;
}

main()
  .then((rows) => emitBenchResult("receiver-state", rows))
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
