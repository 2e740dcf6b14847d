// One doctor run: load the config (a bad one is a finding, not a crash), run the selected
// checks over one shared context, and summarise.
import { statSync } from "node:fs";
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from "../config";
import type { Check } from "./check";
import { createContext, type ConfigLoad } from "./context";
import { summarise, type Report } from "./finding";
import { installLine } from "./install";
import { runChecks } from "./run";

export function loadForDoctor(explicitPath?: string): ConfigLoad {
  const path = explicitPath ?? DEFAULT_CONFIG_PATH;
  let mode: number | null = null;
  try {
    mode = statSync(path).mode;
  } catch {
    /* absent: the config check says so */
  }
  try {
    return { path, config: loadConfig(explicitPath), error: null, mode };
  } catch (error) {
    if (error instanceof ConfigError) return { path, config: null, error, mode };
    throw error;
  }
}

export async function runDoctor(load: ConfigLoad, checks: Check[], requested: ReadonlySet<string>): Promise<Report> {
  const start = performance.now();
  const ctx = createContext(load, requested);
  const configInvalid = load.error !== null;
  const results = await runChecks(checks, ctx, { configInvalid });
  return { checks: results, summary: summarise(results, Math.round(performance.now() - start), configInvalid), install: installLine(results, ctx.packageTool()) };
}
