// Renders a doctor report for a person: grouped by area, one line per check, the fix under
// anything not ok, and a summary line. "tty" uses marks and colour; "ascii" is for pipes, logs
// and NO_COLOR. Pure.
import { GROUPS, GROUP_TITLES, type Report, type Status } from "./finding";

export type TextStyle = "tty" | "ascii";

const MARKS: Record<TextStyle, Record<Status, string>> = {
  tty: { ok: "✓", warn: "!", fail: "✗", skip: "-" },
  ascii: { ok: "[ok]  ", warn: "[warn]", fail: "[FAIL]", skip: "[skip]" },
};

const COLOURS: Record<Status, string> = { ok: "\x1b[32m", warn: "\x1b[33m", fail: "\x1b[31m", skip: "\x1b[2m" };
const RESET = "\x1b[0m";
const DIM = "\x1b[2m";
const BOLD = "\x1b[1m";

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

export function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function summaryLine(report: Report): string {
  const s = report.summary;
  const parts = [`${s.ok} ok`, plural(s.warn, "warning"), plural(s.fail, "failure"), `${s.skip} skipped`];
  const verdict = s.exitCode === 2 ? "the config is invalid" : s.fail > 0 ? "monitoring is broken here" : s.warn > 0 ? "working, with warnings" : "all good";
  return `${plural(s.total, "check")}: ${parts.join(", ")} in ${formatSeconds(s.durationMs)} — ${verdict}`;
}

export function renderText(report: Report, style: TextStyle): string {
  const colour = (status: Status, text: string) => (style === "tty" ? `${COLOURS[status]}${text}${RESET}` : text);
  const dim = (text: string) => (style === "tty" ? `${DIM}${text}${RESET}` : text);
  const bold = (text: string) => (style === "tty" ? `${BOLD}${text}${RESET}` : text);
  const idWidth = Math.max(0, ...report.checks.map((c) => c.id.length));
  const markWidth = style === "tty" ? 1 : 6;
  const lines: string[] = [];
  for (const group of GROUPS) {
    const checks = report.checks.filter((c) => c.group === group);
    if (checks.length === 0) continue;
    if (lines.length) lines.push("");
    lines.push(bold(GROUP_TITLES[group]));
    for (const c of checks) {
      const line = `  ${colour(c.status, MARKS[style][c.status])} ${c.id.padEnd(idWidth)}  ${c.finding}`;
      lines.push(c.status === "skip" ? `  ${colour("skip", MARKS[style].skip)} ${dim(`${c.id.padEnd(idWidth)}  ${c.finding}`)}` : line);
      if (c.fix && c.status !== "ok") lines.push(`  ${" ".repeat(markWidth)} ${" ".repeat(idWidth)}  ${dim("fix:")} ${c.fix}`);
    }
  }
  if (report.install) lines.push("", `${bold("Install what is missing:")} ${report.install}`);
  lines.push("", colour(report.summary.fail > 0 || report.summary.exitCode === 2 ? "fail" : report.summary.warn > 0 ? "warn" : "ok", summaryLine(report)));
  return `${lines.join("\n")}\n`;
}
