// The receiver as it ships, for the receiver benchmarks: scripts/build.sh's bundle started with
// edge-agent-receiver.service's command line on a loopback port, its /metrics read, and its live
// heap (through the inspector, opened with SIGUSR1) after a full collection.
import { spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { unitCommand } from "../../../test/helpers/unit-exec";
import { freeUdpPort, startChild, waitUntil } from "./children";

const ROOT = resolve(__dirname, "../../..");

/** scripts/build.sh's bundle (readable: EDGE_AGENT_BUNDLE_READABLE=1, for a profile), built once per run into dir. */
const built = new Map<string, string>();
export function bundle(dir: string, readable = false): string {
  const out = join(dir, readable ? "bundle-readable" : "bundle");
  if (!built.has(out)) {
    const build = spawnSync("bash", [join(ROOT, "scripts/build.sh")], { env: { ...process.env, BUNDLE_OUT: out, ...(readable ? { EDGE_AGENT_BUNDLE_READABLE: "1" } : {}) }, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`scripts/build.sh failed: ${build.stderr}`);
    built.set(out, join(out, "edge-agent"));
  }
  return built.get(out)!;
}

export interface ReceiverOptions {
  dir: string;
  /** Names its config, log, state and file_sd files in dir. */
  tag: string;
  community: string;
  /** receiver.socketBuffer (0: the kernel's default). */
  socketBuffer: number;
  /** More lines under `receiver:` (two spaces in), e.g. v3 users. */
  extraConfig?: string[];
  /** Node flags before the bundle (a profile, the inspector port). */
  nodeFlags?: string[];
  readable?: boolean;
}

export interface ShippedReceiver {
  child: ChildProcess;
  port: number;
  metricsUrl: string;
  statePath: string;
  fileSdPath: string;
  log: string;
}

export async function startReceiver(o: ReceiverOptions): Promise<ShippedReceiver> {
  const port = await freeUdpPort();
  const metricsPort = await freeUdpPort();
  const config = join(o.dir, `receiver-${o.tag}.yaml`);
  const statePath = join(o.dir, `fleet-${o.tag}.json`);
  const fileSdPath = join(o.dir, `sd-${o.tag}.yml`);
  writeFileSync(config, [
    "receiver:",
    `  listen: ["udp:127.0.0.1:${port}"]`,
    `  communities: [${o.community}]`,
    ...(o.extraConfig ?? []),
    `  metrics: "127.0.0.1:${metricsPort}"`,
    `  fileSd: ${fileSdPath}`,
    `  state: ${statePath}`,
    `  socketBuffer: ${o.socketBuffer}`,
  ].join("\n"));
  const log = join(o.dir, `receiver-${o.tag}.log`);
  // The package's program as edge-agent-receiver.service starts it (node flags only for a profile or the inspector port).
  const { argv, env } = unitCommand(bundle(o.dir, o.readable), ["receive", "--config", config], "edge-agent-receiver.service");
  const node = argv.indexOf(process.execPath);
  const full = [...argv.slice(0, node + 1), ...(o.nodeFlags ?? []), ...argv.slice(node + 1)];
  const child = startChild(full[0], full.slice(1), log, env);
  await waitUntil("receiver start", () => readFileSync(log, "utf8").includes('"receiver started"'));
  return { child, port, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, statePath, fileSdPath, log };
}

/** The sum of the samples whose line starts with prefix (a family name, or a name and "{"). */
export function sampleSum(text: string, prefix: string): number {
  return text.split("\n").filter((l) => l.startsWith(prefix)).reduce((s, l) => s + Number(l.split(" ").pop()), 0);
}

export async function metric(url: string, prefix: string): Promise<number> {
  return sampleSum(await (await fetch(url)).text(), prefix);
}

/** The inspector's WebSocket URL once SIGUSR1 opened it (the process prints it to stderr, here its log). */
export async function openInspector(child: ChildProcess, log: string): Promise<string> {
  child.kill("SIGUSR1");
  let url = "";
  await waitUntil("the inspector", () => {
    url = /ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+/.exec(readFileSync(log, "utf8"))?.[0] ?? "";
    return url !== "";
  });
  return url;
}

/** The live heap after a full collection (live-heap.ts, through the inspector at url), in bytes. */
export function liveHeapBytes(url: string): number {
  const r = spawnSync(process.execPath, ["--experimental-websocket", "--no-warnings", "--import", "tsx", join(__dirname, "live-heap.ts"), url], { encoding: "utf8", cwd: ROOT });
  if (r.status !== 0) throw new Error(`reading the live heap failed: ${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split("\n").pop()!) as { usedBytes: number }).usedBytes;
}
