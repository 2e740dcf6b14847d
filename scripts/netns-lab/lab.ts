// The lab's life cycle: `up` builds the network and starts every daemon, recording what it made
// in <lab>/lab.json; `down` removes all of it (and whatever a failed `up` left) and is safe to run
// twice; `status` says what runs where. The e2e test drives the same functions.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { addressesIn, buildNetwork, inNs, listNamespaces, networkNames, removeNamespace, run, type NetworkNames } from "./network";
import { createUts, isAlive, launch, removeUts, stopProcess, type ProcessRecord, type ProcessSpec } from "./processes";
import { PORTS, REPO, edgeAgentCommands, labPaths, processSpecs, scenarioFor, webhookUrl, type LabPaths } from "./services";
import { COMMUNITY, NODES, nodeByName, type LabNode } from "./topology";

export const DEFAULT_LAB_DIR = "/run/edge-agent-lab";
export const DEFAULT_LAB_PREFIX = "eal";

export interface LabOptions {
  dir?: string;
  /** Namespace name prefix (short: names are <prefix>-<node>). */
  prefix?: string;
  log?: (line: string) => void;
  /** The bundle to run (a test run's own); without it `up` builds one into the lab's directory. */
  bundle?: string;
  /** Two scrapers (README "High availability"): daemons on scraper2 too, and the webhook sink. */
  pair?: boolean;
}

export interface LabState {
  dir: string;
  prefix: string;
  createdAt: string;
  network: NetworkNames;
  commands: string[];
  /** The edge-agent program every node and the scraper run. */
  bundle: string;
  /** Both scrapers run (`up --pair`). */
  pair: boolean;
  processes: ProcessRecord[];
}

function resolveOptions(options: LabOptions): { dir: string; prefix: string; log: (line: string) => void } {
  const prefix = options.prefix ?? process.env.LAB_PREFIX ?? DEFAULT_LAB_PREFIX;
  if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix)) throw new Error(`lab prefix "${prefix}" must be 1-8 lower-case letters/digits starting with a letter`);
  return { dir: options.dir ?? process.env.LAB_DIR ?? DEFAULT_LAB_DIR, prefix, log: options.log ?? ((line) => process.stderr.write(`${line}\n`)) };
}

export function readState(dir: string): LabState | null {
  const file = labPaths(dir).state;
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, "utf8")) as LabState;
}

function saveState(state: LabState): void {
  const file = labPaths(state.dir).state;
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + "\n");
  renameSync(`${file}.tmp`, file);
}

export function requireState(dir?: string): LabState {
  const d = dir ?? process.env.LAB_DIR ?? DEFAULT_LAB_DIR;
  const state = readState(d);
  if (!state) throw new Error(`no lab in ${d}: run \`scripts/lab up\` first`);
  return state;
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, logOf?: string): Promise<void> {
  const start = Date.now();
  let last: unknown = null;
  while (Date.now() - start < timeoutMs) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = logOf && existsSync(logOf) ? `\n--- ${logOf} (last lines) ---\n${readFileSync(logOf, "utf8").split("\n").slice(-15).join("\n")}` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}${tail}`);
}

/** GET a URL from inside a namespace (curl in the namespace); the body, or throws. */
export function fetchIn(ns: string, url: string, method: "GET" | "POST" = "GET"): string {
  return inNs(ns, "curl", ["-sS", "--fail", "--max-time", "3", "-X", method, "-g", url]);
}

function readiness(state: LabState, rec: ProcessRecord): (() => boolean) | null {
  const ns = rec.ns!;
  const node = NODES.find((n) => n.name === rec.node);
  switch (rec.service) {
    case "node-exporter":
      return () => fetchIn(ns, `http://[${node!.tailnet!.v6}]:${PORTS.nodeExporter}/metrics`).includes("node_textfile_scrape_error");
    case "snmpd":
      return () => inNs(ns, "snmpget", ["-v2c", "-c", COMMUNITY, "-r0", "-t1", "-Oqv", "127.0.0.1:161", "1.3.6.1.2.1.1.5.0"], undefined).trim().length > 0;
    case "prometheus":
    case "alertmanager":
      return () => fetchIn(ns, `http://127.0.0.1:${rec.service === "prometheus" ? PORTS.prometheus : PORTS.alertmanager}/-/ready`).length > 0;
    case "edge-agent-receive":
      return () => fetchIn(ns, `http://127.0.0.1:${PORTS.fleetMetrics}/metrics`).length > 0;
    case "webhook":
      return () => fetchIn(ns, webhookUrl()).length > 0;
    case "tailscaled":
      return () => NODES.filter((n) => n.tailnet).every((n) => existsSync(labPaths(state.dir).socket(n.name)));
    default:
      return null;
  }
}

async function startOne(state: LabState, spec: ProcessSpec, log: (line: string) => void): Promise<ProcessRecord> {
  const rec = launch(spec);
  state.processes = [...state.processes.filter((p) => p.key !== spec.key), rec];
  saveState(state);
  log(`  started ${spec.key} (pid ${rec.pid})`);
  const ready = readiness(state, rec);
  if (ready) {
    await waitUntil(`${spec.key} to answer`, () => {
      if (!isAlive(rec.pid)) throw new Error(`${spec.key} exited`);
      return ready();
    }, 20_000, spec.log);
  }
  return rec;
}

/** Builds the bundle the packages ship (scripts/build.sh) for the lab to run, as a user would install it. */
function buildBundle(paths: LabPaths, log: (line: string) => void): string {
  log(`lab: building the bundle into ${dirname(paths.bundle)}`);
  const build = spawnSync("bash", [join(REPO, "scripts/build.sh")], { env: { ...process.env, BUNDLE_OUT: dirname(paths.bundle) }, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`scripts/build.sh failed (exit ${build.status}): ${build.stderr}`);
  return paths.bundle;
}

export async function labUp(options: LabOptions = {}): Promise<LabState> {
  const { dir, prefix, log } = resolveOptions(options);
  if (readState(dir)) throw new Error(`a lab is already up in ${dir}: \`scripts/lab down\` first (or \`scripts/lab status\`)`);
  const names = networkNames(prefix);
  const taken = listNamespaces().filter((ns) => ns === names.core || Object.values(names.namespaces).includes(ns));
  if (taken.length) throw new Error(`network namespaces ${taken.join(", ")} exist already: \`scripts/lab down\` removes a lab's leftovers (LAB_PREFIX=${prefix})`);
  const paths = labPaths(dir);
  mkdirSync(join(dir, "uts"), { recursive: true, mode: 0o750 });
  const bundle = options.bundle ?? buildBundle(paths, log);
  const commands = edgeAgentCommands(bundle);
  const pair = options.pair ?? false;
  const state: LabState = { dir, prefix, createdAt: new Date().toISOString(), network: names, commands: [...commands], bundle, pair, processes: [] };
  saveState(state);
  try {
    log(`lab ${prefix}: network (core + ${NODES.map((n) => n.name).join(", ")})`);
    buildNetwork(names);
    for (const node of NODES) {
      mkdirSync(paths.node(node.name), { recursive: true });
      createUts(paths.uts(node.name), node.name);
      if (node.tailnet) writeScenario(paths, node.name, scenarioFor(node));
    }
    for (const missing of ["run", "receive"].filter((c) => !commands.has(c))) {
      log(`  note: this checkout's edge-agent has no \`${missing}\` command yet; the lab runs without it`);
    }
    log(`lab ${prefix}: daemons`);
    for (const spec of processSpecs(paths, names.namespaces, commands, bundle, pair ? { coreNs: names.core } : null)) await startOne(state, spec, log);
    log(`lab ${prefix}: up in ${dir}`);
    return state;
  } catch (error) {
    log(`lab ${prefix}: up failed, removing what it made`);
    await labDown({ dir, prefix, log: () => {} });
    throw error;
  }
}

export async function labDown(options: LabOptions = {}): Promise<void> {
  const { dir, prefix: defaultPrefix, log } = resolveOptions(options);
  const state = readState(dir);
  const prefix = state?.prefix ?? defaultPrefix;
  if (state) {
    // Agents first (they flush their outbox on SIGTERM), then the rest in reverse start order.
    for (const rec of [...state.processes].reverse()) {
      if (isAlive(rec.pid)) log(`  stopping ${rec.key} (pid ${rec.pid})`);
      await stopProcess(rec.pid);
    }
  }
  const names = networkNames(prefix);
  const ours = new Set([names.core, ...Object.values(names.namespaces)]);
  for (const ns of listNamespaces().filter((n) => ours.has(n))) {
    log(`  removing namespace ${ns}`);
    removeNamespace(ns);
  }
  for (const ns of ours) if (existsSync(join("/etc/netns", ns))) removeNamespace(ns);
  const paths = labPaths(dir);
  for (const node of NODES) removeUts(paths.uts(node.name));
  if (existsSync(dir)) {
    rmSync(dir, { recursive: true, force: true });
    log(`  removed ${dir}`);
  }
  log(`lab ${prefix}: down`);
}

export function writeScenario(paths: LabPaths, node: string, scenario: ReturnType<typeof scenarioFor>): void {
  const file = paths.scenario(node);
  writeFileSync(`${file}.tmp`, JSON.stringify(scenario, null, 2) + "\n");
  renameSync(`${file}.tmp`, file);
}

/** The record of one of the lab's processes, e.g. processOf(state, "svc1", "node-exporter"). */
export function processOf(state: LabState, node: string, service: string): ProcessRecord {
  const rec = state.processes.find((p) => p.node === node && p.service === service);
  if (!rec) throw new Error(`the lab has no ${service} on ${node} (it runs: ${state.processes.map((p) => p.key).join(", ")})`);
  return rec;
}

export async function stopService(node: string, service: string, dir?: string): Promise<void> {
  const state = requireState(dir);
  await stopProcess(processOf(state, node, service).pid);
}

export async function startService(node: string, service: string, dir?: string, log: (line: string) => void = () => {}): Promise<ProcessRecord> {
  const state = requireState(dir);
  const rec = processOf(state, node, service);
  if (isAlive(rec.pid)) return rec;
  const { pid: _pid, startedAt: _startedAt, ...spec } = rec;
  return startOne(state, spec, log);
}

/** Run a command inside a node's namespace (and its host name). */
export function execIn(node: string, command: string, args: string[], dir?: string, input?: string): string {
  const state = requireState(dir);
  const ns = state.network.namespaces[nodeByName(node).name];
  return run("ip", ["netns", "exec", ns, "nsenter", `--uts=${labPaths(state.dir).uts(node)}`, "--", command, ...args], input);
}

/** `scripts/lab exec`: the command gets this terminal (stdin, stdout, stderr); its exit status. */
export function execInteractive(node: string, command: string, args: string[], dir?: string): number {
  const state = requireState(dir);
  const ns = state.network.namespaces[nodeByName(node).name];
  const result = spawnSync("ip", ["netns", "exec", ns, "nsenter", `--uts=${labPaths(state.dir).uts(node)}`, "--", command, ...args], { stdio: "inherit" });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

export function labStatus(dir?: string): string {
  const state = readState(dir ?? process.env.LAB_DIR ?? DEFAULT_LAB_DIR);
  if (!state) {
    const leftovers = listNamespaces().filter((n) => n.startsWith(`${process.env.LAB_PREFIX ?? DEFAULT_LAB_PREFIX}-`));
    return `no lab in ${dir ?? process.env.LAB_DIR ?? DEFAULT_LAB_DIR}${leftovers.length ? ` (but namespaces ${leftovers.join(", ")} exist: \`scripts/lab down\` removes them)` : ""}\n`;
  }
  const existing = new Set(listNamespaces());
  const lines = [`lab ${state.prefix} in ${state.dir}, up since ${state.createdAt}${state.pair ? ", two scrapers (--pair)" : ""}`, `edge-agent commands: ${state.commands.join(", ")}`, ""];
  const describe = (name: string, ns: string, node: LabNode | null) => {
    lines.push(`${name}  netns ${ns} ${existing.has(ns) ? "" : "(MISSING)"}${node ? `  — ${node.summary}` : "  — ISP core: routes 2001:db8::/32 and the tailnet, CGNAT for 100.127.64.0/24"}`);
    if (node?.tailnet) lines.push(`    tailnet ${node.tailnet.v4} ${node.tailnet.v6} (tailscale0); LocalAPI ${labPaths(state.dir).socket(node.name)}`);
    if (existing.has(ns)) for (const a of addressesIn(ns)) lines.push(`    ${a}`);
    for (const p of state.processes.filter((r) => r.node === name)) {
      lines.push(`    ${isAlive(p.pid) ? "up  " : "DOWN"}  ${p.service.padEnd(20)} pid ${String(p.pid).padEnd(8)} ${p.listens.join("; ")}`);
    }
  };
  describe("core", state.network.core, null);
  for (const node of NODES) describe(node.name, state.network.namespaces[node.name], node);
  const host = state.processes.filter((p) => p.node === "host");
  for (const p of host) lines.push(`host  ${isAlive(p.pid) ? "up  " : "DOWN"}  ${p.service} pid ${p.pid} (serves every node's LocalAPI socket)`);
  lines.push("", `logs: ${state.dir}/<node>/<service>.log`);
  return lines.join("\n") + "\n";
}
