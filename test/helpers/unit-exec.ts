// How packaging/systemd/edge-agent.service starts the daemon, pointed at a given bundle: tests
// and benchmarks run the agent the way the package does — ExecStart's node flags, the unit's
// Environment= and, when the unit asks for it, MemoryDenyWriteExecute= (W^X).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BUNDLE } from "./bundle";
import { startDaemon, type Daemon } from "./process";
import { REPO_ROOT } from "./repo";

function unitText(unit: string): string {
  return readFileSync(join(REPO_ROOT, "packaging/systemd", unit), "utf8");
}

/** ExecStart's argv after the node binary, with /usr/bin/edge-agent replaced by `bundle`. */
export function unitNodeArgv(bundle: string, unit = "edge-agent.service"): string[] {
  const exec = /^ExecStart=(.+)$/m.exec(unitText(unit))![1].trim().split(/\s+/);
  const args = exec[0] === "/usr/bin/edge-agent" ? exec : exec.slice(1);
  return args.map((a) => (a === "/usr/bin/edge-agent" ? bundle : a));
}

/** The variables the unit's Environment= lines set (unquoted NAME=value words only). */
export function unitEnvironment(unit = "edge-agent.service"): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, words] of unitText(unit).matchAll(/^Environment=(.+)$/gm))
    for (const word of words.trim().split(/\s+/)) {
      if (/["'\\]/.test(word)) throw new Error(`${unit}: Environment=${words}: quoted values are not read by this helper`);
      const eq = word.indexOf("=");
      env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  return env;
}

/** Exit status of the W^X launcher when the kernel refuses PR_SET_MDWE (Linux < 6.3). */
export const MDWE_UNAVAILABLE = 97;

// systemd >= 253 applies MemoryDenyWriteExecute=yes with prctl(PR_SET_MDWE,
// PR_MDWE_REFUSE_EXEC_GAIN) where the kernel has it, and older systemd with a seccomp filter
// refusing the same calls. Node cannot call prctl, so a few lines of Python set it and exec the
// command; the setting is inherited by everything the command starts.
const MDWE_LAUNCHER = [
  "import ctypes, os, sys",
  "libc = ctypes.CDLL(None, use_errno=True)",
  "if libc.prctl(65, 1, 0, 0, 0) != 0:",
  `    sys.stderr.write("prctl(PR_SET_MDWE): errno %d (needs Linux 6.3 or later)\\n" % ctypes.get_errno()); sys.exit(${MDWE_UNAVAILABLE})`,
  "os.execv(sys.argv[1], sys.argv[1:])",
].join("\n");

/** The argv to put before a command so it runs with W^X enforced, as MemoryDenyWriteExecute=yes does. */
export function mdweLauncher(): string[] {
  return ["python3", "-c", MDWE_LAUNCHER];
}

/**
 * The unit's whole command for `bundle`: the W^X launcher (when the unit sets
 * MemoryDenyWriteExecute=yes), node, ExecStart's node flags and the bundle, followed by `args`
 * in place of ExecStart's own arguments when given; and the environment with Environment= applied.
 */
export function unitCommand(bundle: string, args?: string[], unit = "edge-agent.service"): { argv: string[]; env: NodeJS.ProcessEnv } {
  const wx = /^MemoryDenyWriteExecute=(yes|true|on|1)\s*$/m.test(unitText(unit));
  const execArgs = unitNodeArgv(bundle, unit);
  const nodeArgs = args ? [...execArgs.slice(0, execArgs.indexOf(bundle) + 1), ...args] : execArgs;
  return { argv: [...(wx ? mdweLauncher() : []), process.execPath, ...nodeArgs], env: { ...process.env, ...unitEnvironment(unit) } };
}

export interface UnitOptions {
  /** The unit whose command line and environment to use. */
  unit?: string;
  /** Run inside this network namespace. */
  netns?: string;
  /** Variables to add on top of the unit's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts the test run's bundle as `unit` starts /usr/bin/edge-agent, with `args` (e.g. run --config F). */
export function startUnit(args: string[], options: UnitOptions = {}): Daemon {
  const { argv, env } = unitCommand(BUNDLE, args, options.unit);
  const full = options.netns ? ["ip", "netns", "exec", options.netns, ...argv] : argv;
  return startDaemon(full[0], full.slice(1), { env: { ...env, ...options.env }, cwd: options.cwd ?? REPO_ROOT });
}
