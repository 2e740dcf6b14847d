// What a doctor check concludes, and the report the renderers print: the vocabulary shared by
// checks, the runner and the tty/json renderers.
import type { Missing } from "./install";

export type Status = "ok" | "warn" | "fail" | "skip";

/** A check's conclusion: one line saying what is so, and for anything not ok, what to do. */
export interface Finding {
  status: Status;
  finding: string;
  /** A command to run or a config line to set; null only when ok: anything else says what to do. */
  fix: string | null;
  /** What the finding found not installed, for the closing line that installs it all. */
  missing?: Missing;
}

/** The areas the output is grouped by, in the order they print. */
export const GROUPS = ["config", "addresses", "tailnet", "firewall", "services", "outputs", "receiver"] as const;
export type Group = (typeof GROUPS)[number];

export const GROUP_TITLES: Record<Group, string> = {
  config: "Config",
  addresses: "Addresses",
  tailnet: "Tailnet",
  firewall: "Firewall",
  services: "Services",
  outputs: "Outputs (textfile, AgentX, notifications)",
  receiver: "Receiver (scraper)",
};

export interface CheckResult extends Finding {
  id: string;
  group: Group;
  durationMs: number;
}

export interface Summary {
  total: number;
  ok: number;
  warn: number;
  fail: number;
  skip: number;
  durationMs: number;
  exitCode: number;
}

export interface Report {
  checks: CheckResult[];
  summary: Summary;
  /** One command installing everything the findings say is missing, when more than one thing is. */
  install: string | null;
}

export const ok = (finding: string): Finding => ({ status: "ok", finding, fix: null });
// Whatever is not ok carries a fix: what to run, or what to look at first (the types insist).
export const warn = (finding: string, fix: string): Finding => ({ status: "warn", finding, fix });
export const fail = (finding: string, fix: string): Finding => ({ status: "fail", finding, fix });
export const skip = (finding: string, fix: string): Finding => ({ status: "skip", finding, fix });
/** A finding whose cause is a program not installed: its fix installs it. */
export const notInstalled = (status: Exclude<Status, "ok">, finding: string, fix: string, missing: Missing): Finding => ({ status, finding, fix, missing });

/**
 * Exit code: 2 when the config is bad (the other checks were not run against it), 1 when any
 * check failed, else 0. Warnings and skips never fail the run.
 */
export function exitCodeOf(checks: CheckResult[], configInvalid: boolean): number {
  if (configInvalid) return 2;
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}

export function summarise(checks: CheckResult[], durationMs: number, configInvalid: boolean): Summary {
  const count = (s: Status) => checks.filter((c) => c.status === s).length;
  return { total: checks.length, ok: count("ok"), warn: count("warn"), fail: count("fail"), skip: count("skip"), durationMs, exitCode: exitCodeOf(checks, configInvalid) };
}
