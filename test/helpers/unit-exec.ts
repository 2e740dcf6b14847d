// The command line packaging/systemd/edge-agent.service starts the daemon with, pointed at a
// given bundle: tests and benchmarks run the agent the way the package does (node flags included).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./cli";

/** ExecStart's argv after the node binary, with /usr/bin/edge-agent replaced by `bundle`. */
export function unitNodeArgv(bundle: string, unit = "edge-agent.service"): string[] {
  const text = readFileSync(join(REPO_ROOT, "packaging/systemd", unit), "utf8");
  const exec = /^ExecStart=(.+)$/m.exec(text)![1].trim().split(/\s+/);
  const args = exec[0] === "/usr/bin/edge-agent" ? exec : exec.slice(1);
  return args.map((a) => (a === "/usr/bin/edge-agent" ? bundle : a));
}
