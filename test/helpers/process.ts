// Starts a daemon for a test and guarantees it is stopped: output captured for failure messages.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

export interface Daemon {
  child: ChildProcess;
  output: () => string;
  /** The exit code, once the output is read too: 'exit' can come before the last of it. */
  ended: Promise<number | null>;
  /** SIGTERM (SIGKILL after 3 s); resolves once it has exited and its output is read. */
  stop: () => Promise<void>;
}

export function startDaemon(command: string, args: string[], options: SpawnOptions = {}): Daemon {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  child.on("error", (error) => (output += `\nspawn error: ${error.message}`));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // A grandchild holding the pipes open would keep 'close' away for good: wait a second at most.
  const ended = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      const timer = setTimeout(() => resolve(code), 1000);
      child.once("close", () => {
        clearTimeout(timer);
        resolve(code);
      });
    }),
  );
  return {
    child,
    output: () => output,
    ended,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
      // Its last output too, for the test that reads it after stopping it.
      await ended;
    },
  };
}
