// Starts the lab's daemons detached inside a node's namespace (and its own UTS namespace, so
// each node has its own host name), logs to a file, and stops them by process group.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { run } from "./network";

export interface ProcessSpec {
  /** "<node>/<service>", e.g. svc1/node-exporter. */
  key: string;
  node: string;
  service: string;
  /** Network namespace, or null for the host's (the fake tailscaled's unix sockets). */
  ns: string | null;
  /** Persistent UTS namespace file (its host name), or null. */
  uts: string | null;
  argv: string[];
  env?: Record<string, string>;
  log: string;
  /** What it listens on, for `status`. */
  listens: string[];
}

export interface ProcessRecord extends ProcessSpec {
  pid: number;
  startedAt: string;
}

export function launch(spec: ProcessSpec): ProcessRecord {
  const argv = spec.ns ? ["ip", "netns", "exec", spec.ns, ...(spec.uts ? ["nsenter", `--uts=${spec.uts}`, "--"] : []), ...spec.argv] : spec.argv;
  const fd = openSync(spec.log, "a");
  try {
    const child = spawn(argv[0], argv.slice(1), {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: { ...process.env, ...spec.env },
    });
    if (!child.pid) throw new Error(`could not start ${spec.key}: ${argv.join(" ")}`);
    child.on("error", () => {});
    child.unref();
    return { ...spec, pid: child.pid, startedAt: new Date().toISOString() };
  } finally {
    closeSync(fd);
  }
}

/** Alive and not a zombie (a reaped-later child of this process counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`. */
export async function stopProcess(pid: number, graceMs = 5000): Promise<void> {
  if (!isAlive(pid)) return;
  signalGroup(pid, "SIGTERM");
  const start = Date.now();
  while (isAlive(pid) && Date.now() - start < graceMs) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) signalGroup(pid, "SIGKILL");
  while (isAlive(pid) && Date.now() - start < graceMs + 2000) await new Promise((r) => setTimeout(r, 50));
}

/** A persistent UTS namespace bound to `file`, with `hostname` set in it. */
export function createUts(file: string, hostname: string): void {
  if (!existsSync(file)) writeFileSync(file, "");
  run("unshare", [`--uts=${file}`, "hostname", hostname]);
}

export function removeUts(file: string): void {
  try {
    run("umount", [file]);
  } catch {
    /* not mounted */
  }
}
