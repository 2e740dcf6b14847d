// The child processes a benchmark starts (receivers, references), and waiting on them: each is
// remembered so the benchmark can stop every one it started when it ends, however it ends.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, rmSync } from "node:fs";
import { createSocket } from "node:dgram";

const started: ChildProcess[] = [];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a process with its stdout and stderr in logFile. */
export function startChild(command: string, argv: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const fd = openSync(logFile, "w");
  const child = spawn(command, argv, { stdio: ["ignore", fd, fd], env });
  closeSync(fd);
  started.push(child);
  return child;
}

/** SIGTERM to every child startChild started that is still running. */
export function stopChildren(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
}

/** Stops one child and waits until it has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, ms = 20_000, everyMs = 50): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await check()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A loopback port nothing listens on now (for UDP, and in practice for TCP as well). */
export function freeUdpPort(): Promise<number> {
  return new Promise((res) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

/**
 * Runs a benchmark's main: an error is printed and makes the exit status 1; either way every
 * child is stopped and the benchmark's scratch directory removed.
 */
export function runBench(main: () => Promise<void>, scratchDir: string): void {
  main()
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(async () => {
      stopChildren();
      await sleep(500);
      rmSync(scratchDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    });
}
