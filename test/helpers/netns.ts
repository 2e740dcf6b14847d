// Network namespaces a test makes for itself (unique names, removed afterwards).
import { execFileSync, spawn } from "node:child_process";
import { statSync } from "node:fs";

export interface Netns {
  name: string;
  /** Runs a command inside the namespace; throws with its stderr on failure. */
  exec: (command: string, args: string[], input?: string) => string;
  /** The pid of a long-lived process inside the namespace (for /proc/PID/net/...); it is inside by the time createNetns returns. */
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
  // `ip netns exec` enters the namespace after the fork: until then /proc/PID/net/... shows the
  // host's. The anchor is in when its ns/net is the inode that /run/netns/NAME pins.
  const inode = statSync(`/run/netns/${name}`).ino;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (const deadline = Date.now() + 5000; ; Atomics.wait(pause, 0, 0, 2)) {
    let entered = false;
    try {
      entered = statSync(`/proc/${anchor.pid}/ns/net`).ino === inode;
    } catch {
      /* not started yet */
    }
    if (entered) break;
    if (Date.now() > deadline) {
      anchor.kill("SIGKILL");
      execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
      throw new Error(`netns ${name}: the anchor process (ip netns exec ${name} sleep) did not enter the namespace within 5 s`);
    }
  }
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
