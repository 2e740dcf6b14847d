// The command line and environment packaging/systemd/edge-agent.service starts the daemon with,
// pointed at a given bundle: tests and benchmarks run the agent the way the package does (node
// flags and the unit's Environment= settings included).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./cli";

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
