// Runs the selected checks concurrently, each under its own deadline: a check that throws or
// hangs becomes a failed finding naming why, and the others still finish.
import { DeadlineExceeded, errorText, withDeadline } from "../probes/deadline";
import { SELF } from "../self-command";
import type { Check } from "./check";
import type { DoctorContext } from "./context";
import { fail, skip, type CheckResult, type Finding } from "./finding";

export interface RunOptions {
  /** The config did not load: only the config check runs, the rest are skipped. */
  configInvalid: boolean;
}

async function decide(check: Check, ctx: DoctorContext, options: RunOptions): Promise<Finding> {
  if (options.configInvalid && check.id !== "config") return skip("not run: the config is invalid (see the config check)", "the config check's fix first, then run doctor again");
  if (check.scope === "scraper" && !ctx.requested.has(check.id)) {
    const role = await ctx.role();
    if (!role.scraper) return skip(`not the scraper: ${role.reason}`, `${SELF} doctor --check ${check.id} runs it anyway`);
  }
  const limit = check.timeoutMs(ctx.config);
  try {
    return await withDeadline(check.run(ctx), limit, `the ${check.id} check`);
  } catch (error) {
    if (error instanceof DeadlineExceeded)
      return fail(`did not finish within ${limit} ms: something it waits on hangs`, `${SELF} doctor --check ${check.id} re-runs it alone; probes.timeout bounds each wait`);
    return fail(`the check itself failed: ${errorText(error)}`, `a bug in edge-agent: please report it with the output of \`${SELF} doctor --json\``);
  }
}

export async function runChecks(checks: Check[], ctx: DoctorContext, options: RunOptions): Promise<CheckResult[]> {
  return Promise.all(
    checks.map(async (check) => {
      const start = performance.now();
      const finding = await decide(check, ctx, options);
      return { id: check.id, group: check.group, ...finding, durationMs: Math.round(performance.now() - start) };
    }),
  );
}
