// Renders a doctor report for scripts: {"checks": [{id, group, status, finding, fix,
// durationMs}], "summary": {total, ok, warn, fail, skip, durationMs, exitCode}}. Pure.
import type { Report } from "./finding";

export function renderJson(report: Report): string {
  const checks = report.checks.map((c) => ({ id: c.id, group: c.group, status: c.status, finding: c.finding, fix: c.fix, durationMs: c.durationMs }));
  return `${JSON.stringify({ checks, summary: report.summary }, null, 2)}\n`;
}
