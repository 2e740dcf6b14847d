// Renders a doctor report for scripts: {"checks": [{id, group, status, finding, fix, missing?,
// durationMs}], "summary": {total, ok, warn, fail, skip, durationMs, exitCode}, "install"}. Pure.
import type { Report } from "./finding";

export function renderJson(report: Report): string {
  const checks = report.checks.map((c) => ({ id: c.id, group: c.group, status: c.status, finding: c.finding, fix: c.fix, ...(c.missing ? { missing: c.missing } : {}), durationMs: c.durationMs }));
  return `${JSON.stringify({ checks, summary: report.summary, install: report.install }, null, 2)}\n`;
}
