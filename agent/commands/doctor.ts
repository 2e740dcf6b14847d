// `edge-agent doctor`: run every check once (or those named by --check) and say what is wrong
// and how to fix it. Read-only apart from one test notification; needs no daemon and no config.
import { UsageError } from "../cli";
import { runDoctor, loadForDoctor } from "../doctor/doctor";
import { CHECK_IDS, selectChecks } from "../doctor/registry";
import { renderJson } from "../doctor/render-json";
import { renderText, type TextStyle } from "../doctor/render-text";

/**
 * Marks and colour on a terminal; plain ASCII when piped, with NO_COLOR or TERM=dumb.
 * FORCE_COLOR (other than 0/false) asks for the terminal form through a pipe.
 */
export function textStyle(env: NodeJS.ProcessEnv, isTTY: boolean): TextStyle {
  if (env.NO_COLOR) return "ascii";
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false") return "tty";
  if (env.TERM === "dumb") return "ascii";
  return isTTY ? "tty" : "ascii";
}

export async function doctorCommand(values: { config?: unknown; json?: unknown; check?: unknown }): Promise<number> {
  const ids = (values.check as string[] | undefined) ?? [];
  const { checks, unknown } = selectChecks(ids);
  if (unknown.length) throw new UsageError(`unknown check ${unknown.map((id) => `"${id}"`).join(", ")}; the checks are: ${CHECK_IDS.join(", ")}`);
  const load = loadForDoctor(values.config as string | undefined);
  const report = await runDoctor(load, checks, new Set(ids));
  process.stdout.write(values.json ? renderJson(report) : renderText(report, textStyle(process.env, process.stdout.isTTY === true)));
  // A check that timed out may leave its socket or lookup behind; the answer is already out,
  // so do not wait for it. Unreferenced: when nothing is left this never fires.
  setTimeout(() => process.exit(report.summary.exitCode), 200).unref();
  return report.summary.exitCode;
}
