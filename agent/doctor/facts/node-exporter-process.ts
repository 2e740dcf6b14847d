// Which textfile directory node-exporter really reads: from the command line of the running
// node-exporter that serves the configured URL (in this network namespace), else from Debian's
// /etc/default/prometheus-node-exporter ARGS, else the packaged default.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";

/** Debian's prometheus-node-exporter is built with this default. */
export const DEBIAN_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";
export const DEBIAN_DEFAULTS_FILE = "/etc/default/prometheus-node-exporter";

export interface NodeExporterArgs {
  listen: string[];
  textfileDir: string | null;
  textfileEnabled: boolean;
}

export interface TextfileSource {
  /** Where the answer came from, for the finding. */
  source: string;
  directory: string | null;
  enabled: boolean;
}

/** Pure: a node-exporter argv (without argv[0]) -> what it listens on and reads. */
export function parseNodeExporterArgs(args: string[], defaultDir: string | null): NodeExporterArgs {
  const listen: string[] = [];
  let textfileDir: string | null = null;
  let disableDefaults = false;
  let textfile: boolean | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => inline ?? args[++i] ?? "";
    if (flag === "--web.listen-address") listen.push(value());
    else if (flag === "--collector.textfile.directory") textfileDir = value();
    else if (flag === "--collector.disable-defaults") disableDefaults = true;
    else if (flag === "--collector.textfile") textfile = true;
    else if (flag === "--no-collector.textfile") textfile = false;
  }
  return {
    listen: listen.length ? listen : [":9100"],
    textfileDir: textfileDir ?? defaultDir,
    textfileEnabled: textfile ?? !disableDefaults,
  };
}

/** Pure: the ARGS="..." line of /etc/default/prometheus-node-exporter, split like sh would. */
export function parseDefaultsArgs(text: string): string[] {
  const line = text.split("\n").find((l) => /^\s*ARGS=/.test(l));
  if (!line) return [];
  const raw = line.replace(/^\s*ARGS=/, "").trim();
  const args: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  // The value is one shell word, usually quoted: unquote it, then split on blanks.
  const unquoted = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw.startsWith("'") && raw.endsWith("'") ? raw.slice(1, -1) : raw;
  for (const m of unquoted.matchAll(re)) args.push(m[1] ?? m[2] ?? m[3]);
  return args;
}

export function listenPort(address: string): number | null {
  const match = /:(\d+)$/.exec(address);
  return match ? Number(match[1]) : null;
}

export function netnsOf(pid: string): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return null;
  }
}

/** A small /proc file, read synchronously (see runningNodeExporters); "" when it is gone. */
export function procText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

interface Found {
  pid: number;
  name: string;
  args: NodeExporterArgs;
}

// Synchronous on purpose: /proc files are in memory and tiny, and hundreds of async reads would
// queue in libuv's four-thread pool ahead of the probes' own reads (if_inet6, getaddrinfo),
// which then miss their deadlines on a busy host.
function runningNodeExporters(): Found[] {
  const self = netnsOf("self");
  const found: Found[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const comm = procText(`/proc/${pid}/comm`).trim();
    if (comm !== "prometheus-node" && comm !== "node_exporter") continue;
    // Another namespace's node-exporter (a container, another test) is not the one we scrape.
    const ns = netnsOf(pid);
    if (self && ns && ns !== self) continue;
    const argv = procText(`/proc/${pid}/cmdline`).split("\0").filter(Boolean);
    if (argv.length === 0) continue;
    const debian = comm === "prometheus-node";
    found.push({ pid: Number(pid), name: argv[0].split("/").pop() ?? comm, args: parseNodeExporterArgs(argv.slice(1), debian ? DEBIAN_TEXTFILE_DIR : null) });
  }
  return found;
}

/** The textfile directory of the node-exporter listening on `port`; null when nothing tells. */
export async function nodeExporterTextfile(port: number, defaultsFile = DEBIAN_DEFAULTS_FILE): Promise<TextfileSource | null> {
  const running = runningNodeExporters();
  const match = running.find((p) => p.args.listen.some((l) => listenPort(l) === port)) ?? (running.length === 1 ? running[0] : undefined);
  if (match) return { source: `${match.name} pid ${match.pid}'s arguments`, directory: match.args.textfileDir, enabled: match.args.textfileEnabled };
  const text = await readFile(defaultsFile, "utf8").catch(() => null);
  if (text === null) return null;
  const args = parseNodeExporterArgs(parseDefaultsArgs(text), DEBIAN_TEXTFILE_DIR);
  return { source: `ARGS in ${defaultsFile}`, directory: args.textfileDir, enabled: args.textfileEnabled };
}
