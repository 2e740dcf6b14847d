// Network namespaces a test makes for itself (unique names, removed afterwards).
import { execFileSync, spawn } from "node:child_process";

export interface Netns {
  name: string;
  /** Runs a command inside the namespace; throws with its stderr on failure. */
  exec: (command: string, args: string[], input?: string) => string;
  /** The pid of a long-lived process inside the namespace (for /proc/PID/net/...). */
  anchorPid: number;
  remove: () => void;
}

let counter = 0;

export function createNetns(prefix = "ea"): Netns {
  const name = `${prefix}${process.pid}x${counter++}`;
  execFileSync("ip", ["netns", "add", name]);
  const exec = (command: string, args: string[], input?: string): string => {
    try {
      return execFileSync("ip", ["netns", "exec", name, command, ...args], { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`in netns ${name}: ${command} ${args.join(" ")}: ${e.stderr?.trim() || e.message}`);
    }
  };
  exec("ip", ["link", "set", "lo", "up"]);
  const anchor = spawn("ip", ["netns", "exec", name, "sleep", "3600"], { stdio: "ignore" });
  return {
    name,
    exec,
    anchorPid: anchor.pid!,
    remove: () => {
      anchor.kill("SIGKILL");
      try {
        execFileSync("ip", ["netns", "pids", name], { encoding: "utf8" })
          .split("\n")
          .filter(Boolean)
          .forEach((pid) => {
            try {
              process.kill(Number(pid), "SIGKILL");
            } catch {
              /* already gone */
            }
          });
      } catch {
        /* namespace already gone */
      }
      try {
        execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
      } catch {
        /* already removed */
      }
    },
  };
}
