// The shape of one doctor check: a stable id, the area it belongs to, its own time limit, and a
// run that gathers facts from the context and hands them to a pure judge.
import type { Config } from "../config";
import type { DoctorContext } from "./context";
import type { Finding, Group } from "./finding";

export interface Check {
  /** Stable: users script against it (`--check ID`, the JSON output). */
  id: string;
  group: Group;
  /** "scraper" checks run only on the scraper, unless asked for by id. */
  scope: "any" | "scraper";
  /** What it checks, for `--help`-style listings and the README table. */
  summary: string;
  /** After this the check is reported failed and the others go on. */
  timeoutMs: (config: Config) => number;
  run: (ctx: DoctorContext) => Promise<Finding>;
}

/**
 * Worst case of collectNodeState: the tailnet probe (status + disco ping) then the services,
 * each tried locally and on up to two Tailscale IPs. Checks over NodeState get a little more,
 * so the probes' own deadlines, which say which source hung, fire first.
 */
export function nodeStateTimeout(config: Config): number {
  return config.probes.timeoutMs * 6 + 1500;
}
