// Runs `edge-agent` in a child process, optionally inside a network namespace, and returns its
// exit code, output and wall time. By default the program is the bundle the packages install
// (test/helpers/bundle.ts), run as /usr/bin/edge-agent runs: node and the file, no flags.
import { execFile, spawn } from "node:child_process";
import { resolve } from "node:path";
import { BUNDLE } from "./bundle";
import { REPO_ROOT } from "./repo";

export { REPO_ROOT };
/** The checkout's launcher (tsx and the sources): only for tests of the checkout path itself. */
export const LAUNCHER = resolve(REPO_ROOT, "bin/edge-agent.js");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  netns?: string;
  env?: NodeJS.ProcessEnv;
  /** The command to run instead of `node BUNDLE` (e.g. ["npx", "edge-agent"]). */
  via?: string[];
  timeoutMs?: number;
}

export function runAgent(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const base = options.via ?? [process.execPath, BUNDLE];
  const argv = options.netns ? ["ip", "netns", "exec", options.netns, ...base, ...args] : [...base, ...args];
  const start = process.hrtime.bigint();
  return new Promise((resolveRun) => {
    execFile(argv[0], argv.slice(1), { cwd: REPO_ROOT, env: options.env ?? process.env, timeout: options.timeoutMs ?? 90_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const code = error ? (typeof (error as { code?: unknown }).code === "number" ? ((error as { code: number }).code) : -1) : 0;
      resolveRun({ code, stdout, stderr, ms });
    });
  });
}

/**
 * Runs many command lines through runCli inside one launcher-like process (tsx + cli.ts), for
 * tests of many usage or config errors. The exit-code plumbing of main.ts is not on this path:
 * test it with runAgent.
 */
export function runAgentBatch(runs: string[][]): Promise<Omit<CliRun, "ms">[]> {
  return new Promise((resolveBatch, reject) => {
    const child = spawn(process.execPath, ["--require", "tsx/cjs", resolve(REPO_ROOT, "test/helpers/cli-batch.ts")], { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      try {
        resolveBatch(JSON.parse(stdout));
      } catch {
        reject(new Error(`cli-batch exited ${code}: ${stderr || stdout}`));
      }
    });
    child.stdin.end(JSON.stringify(runs));
  });
}
