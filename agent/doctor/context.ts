// The facts doctor's checks read, gathered lazily and once: the NodeState every output shares
// (so doctor, status and the daemon agree), plus the few things only doctor asks. Checks that
// need the same fact share one gathering; a check nobody selected costs nothing.
import { configFromObject, type Config, type ConfigError } from "../config";
import { runningTailnet, type NodeState } from "../state/node-state";
import { resolveName, type Resolution } from "./facts/dns";
import { readHostIpv4, type Ipv4Address } from "../probes/ipv4";
import { nodeExporterTextfile, type TextfileSource } from "./facts/node-exporter-process";
import { hostPackageTool } from "./facts/package-tool";
import { detectRole, edgeAgentProcesses, type EdgeAgentCommand, type Role } from "./facts/role";
import type { PackageTool } from "./install";
import { tcpConnect, type ConnectResult } from "./facts/tcp-connect";
import { boundUdpSockets, type UdpSocket } from "../probes/udp-listeners";

/** How loading the config went: the `config` check's facts. */
export interface ConfigLoad {
  /** The path read, or the default path that did not exist. */
  path: string;
  config: Config | null;
  error: ConfigError | null;
  /** File mode bits, when the file exists. */
  mode: number | null;
}

export interface DoctorContext {
  load: ConfigLoad;
  /** The loaded config; the defaults when it did not load (then only `config` runs). */
  config: Config;
  /** Check ids named with --check: those run even where they would otherwise be skipped. */
  requested: ReadonlySet<string>;
  nodeState(): Promise<NodeState>;
  hostIpv4(): Promise<Ipv4Address[]>;
  resolve(name: string): Promise<Resolution>;
  textfileSource(port: number): Promise<TextfileSource | null>;
  connect(host: string, port: number): Promise<ConnectResult>;
  udpSockets(): Promise<UdpSocket[]>;
  role(): Promise<Role>;
  /** The running `edge-agent run` or `receive` here: one /proc pass serves the role and agentx. */
  edgeAgentPid(command: EdgeAgentCommand): number | null;
  /** apt or dnf, from os-release: what the install fixes name. */
  packageTool(): PackageTool | null;
}

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
}

export function createContext(load: ConfigLoad, requested: ReadonlySet<string> = new Set()): DoctorContext {
  const config = load.config ?? configFromObject({}, null);
  const timeout = config.probes.timeoutMs;
  // Loaded on first use: the probes pull in net-snmp and more, which `--check config` or
  // `--check agentx` should not pay for.
  const nodeState = once(() => (require("../probes/collect") as typeof import("../probes/collect")).collectNodeState(config, { ping: true }));
  const resolutions = new Map<string, Promise<Resolution>>();
  let packageTool: PackageTool | null | undefined;
  let edgeAgents: ReturnType<typeof edgeAgentProcesses> | undefined;
  const edgeAgentPid = (command: EdgeAgentCommand) => (edgeAgents ??= edgeAgentProcesses())[command];
  return {
    load,
    config,
    requested,
    nodeState,
    hostIpv4: once(async () => {
      const state = await nodeState();
      return readHostIpv4(runningTailnet(state.tailnet)?.ips ?? []);
    }),
    resolve: (name) => {
      let r = resolutions.get(name);
      if (!r) resolutions.set(name, (r = resolveName(name, timeout)));
      return r;
    },
    textfileSource: (port) => nodeExporterTextfile(port),
    connect: (host, port) => tcpConnect(host, port, timeout),
    udpSockets: once(() => boundUdpSockets()),
    role: once(() => detectRole(config, () => edgeAgentPid("receive"))),
    edgeAgentPid,
    packageTool: () => (packageTool === undefined ? (packageTool = hostPackageTool()) : packageTool),
  };
}
