// The fleet page the receiver serves at `/` on receiver.metrics: one HTML table row per node, its
// columns those of every part of NodeState (PartDefinition.page, agent/state/<part>.ts) after the
// receiver's own (node, whether it reports). Pure: FleetState's records and the time in, the page
// out. No script at all (the Content-Security-Policy forbids one) and one stylesheet, whose media
// query turns each row into a card on a phone. Every value came from the network (node names,
// tags, endpoints are what a node sent), so all text is HTML-escaped, attributes included.
import { createHash } from "node:crypto";
import type { ObjectValues } from "../snmp/state-objects";
import type { PageLine } from "../state/fact";
import { PARTS } from "../state/parts";
import type { NodeRecord } from "./fleet-state";

export interface FleetPageInput {
  records: Iterable<NodeRecord>;
  /** Nodes known to be in the fleet that never reported (the scraper's tagged peers), if known. */
  silent: readonly string[];
  nowMs: number;
  /** The receiver's edge-agent version. */
  version: string;
  /** At most this many rows, problems first: a phone cannot show a 100,000-row table. */
  maxRows: number;
}

const COLUMNS = PARTS.flatMap((part) => part.page);

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5f6b7a; --line: #d5dbe3; --card: #fff; --bg: #f4f6f9;
  --ok: #17753a; --bad: #b3261e; --bad-bg: #fdecea; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ee; --muted: #9aa5b4; --line: #3a424d; --card: #1d2229;
  --bg: #14181d; --ok: #6fd08f; --bad: #ff8a80; --bad-bg: #3b1f1f; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
h1 { font-size: 1.3em; margin: 0 0 4px; }
p { margin: 4px 0; color: var(--muted); }
a { color: inherit; }
.scroll { overflow-x: auto; margin-top: 12px; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; vertical-align: top; padding: 6px 7px; border-bottom: 1px solid var(--line); }
thead th { border-bottom: 2px solid var(--line); }
tbody th { font-weight: 600; white-space: nowrap; }
.k { color: var(--muted); margin-right: 4px; white-space: nowrap; }
.ok { color: var(--ok); }
.bad { color: var(--bad); font-weight: 600; }
tr.problem > th { box-shadow: inset 4px 0 0 var(--bad); }
.summary .bad { color: var(--bad); }
@media (max-width: 900px) {
  body { padding: 10px; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table, tbody, tr, th, td { display: block; width: 100%; }
  table { background: none; }
  tr { background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin: 0 0 10px; padding: 4px 10px; }
  tr.problem { border-color: var(--bad); background: linear-gradient(var(--bad-bg), var(--card) 3em); }
  tr.problem > th { box-shadow: none; }
  tbody th { font-size: 1.15em; border-bottom: 1px solid var(--line); padding: 6px 0; white-space: normal; overflow-wrap: anywhere; }
  td { display: grid; grid-template-columns: 6.5em minmax(0, 1fr); gap: 8px; border: 0; padding: 4px 0; }
  td::before { content: attr(data-label); font-weight: 600; color: var(--muted); }
  td div { overflow-wrap: anywhere; }
}
`;

/** What the page's CSP allows: its own stylesheet (by hash), and nothing else at all. */
export const FLEET_PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

interface Row {
  node: string;
  record: NodeRecord | null;
  problem: boolean;
}

const timeText = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");

/** A report's time: the time of day when it is from the page's day, else the date too. */
function reportTime(ms: number, nowMs: number): string {
  const full = timeText(ms);
  return full.slice(0, 10) === timeText(nowMs).slice(0, 10) ? full.slice(11) : full;
}

/**
 * Whether what a node reported shows a problem, remembered per values object: FleetState replaces
 * a node's values on each notification and never changes them, so a rendering looks again only at
 * the nodes that reported since the last one (a boolean per node, not its cells: those are built
 * only for the rows shown).
 */
const reportedProblem = new WeakMap<ObjectValues, boolean>();

function hasReportedProblem(values: ObjectValues): boolean {
  let problem = reportedProblem.get(values);
  if (problem === undefined) {
    problem = COLUMNS.some((column) => column.lines(values).some((l) => l.tone === "bad"));
    reportedProblem.set(values, problem);
  }
  return problem;
}

function rowOf(node: string, record: NodeRecord | null): Row {
  return { node, record, problem: !record || record.stale || hasReportedProblem(record.values) };
}

function lineHtml(line: PageLine): string {
  const label = line.label ? `<span class="k">${escapeHtml(line.label)}</span>` : "";
  const tone = line.tone === "none" ? "" : ` class="${line.tone}"`;
  return `<div>${label}<span${tone}>${escapeHtml(line.value || "—")}</span></div>`;
}

function cellHtml(heading: string, lines: PageLine[]): string {
  return `<td data-label="${escapeHtml(heading)}"><div>${lines.map(lineHtml).join("")}</div></td>`;
}

/** The receiver's own column: whether the node reports, and its last notification. */
function reportLines(row: Row, nowMs: number): PageLine[] {
  const r = row.record;
  if (!r) return [{ label: "", value: "silent", tone: "bad" }, { label: "", value: "never reported", tone: "none" }];
  return [
    r.stale ? { label: "", value: "stale", tone: "bad" } : { label: "", value: "reporting", tone: "ok" },
    { label: "last", value: reportTime(r.lastSeenMs, nowMs), tone: "none" },
    { label: "event", value: r.lastEvent, tone: "none" },
  ];
}

function rowHtml(row: Row, nowMs: number): string {
  const values = row.record?.values;
  const cells = [cellHtml("Report", reportLines(row, nowMs)), ...COLUMNS.map((column) => cellHtml(column.heading, values ? column.lines(values) : []))];
  return `<tr${row.problem ? ' class="problem"' : ""}><th scope="row">${escapeHtml(row.node)}</th>${cells.join("")}</tr>\n`;
}

const byName = (a: Row, b: Row): number => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);

export function renderFleetPage(input: FleetPageInput): string {
  const rows: Row[] = [];
  const reporting = new Set<string>();
  for (const record of input.records) {
    rows.push(rowOf(record.node, record));
    reporting.add(record.node);
  }
  for (const node of input.silent) if (!reporting.has(node)) rows.push(rowOf(node, null));
  rows.sort((a, b) => (a.problem === b.problem ? byName(a, b) : a.problem ? -1 : 1));

  const stale = rows.filter((r) => r.record?.stale).length;
  const silent = rows.filter((r) => !r.record).length;
  const problems = rows.filter((r) => r.problem).length;
  const shown = rows.slice(0, Math.max(0, input.maxRows));
  const bad = (n: number, text: string) => (n > 0 ? `<span class="bad">${text}</span>` : text);
  const summary = [
    `${rows.length} node${rows.length === 1 ? "" : "s"}`,
    bad(stale, `${stale} stale`),
    bad(silent, `${silent} silent`),
    bad(problems, `${problems} with a problem`),
  ].join(" · ");
  const more = shown.length < rows.length ? `<p>Showing ${shown.length} of ${rows.length} nodes, those with a problem first; every node is in <a href="/metrics">/metrics</a>.</p>\n` : "";
  const head = ["Node", "Report", ...COLUMNS.map((c) => c.heading)].map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("");
  const body = shown.length ? shown.map((row) => rowHtml(row, input.nowMs)).join("") : `<tr><td colspan="${COLUMNS.length + 2}">No node has reported yet.</td></tr>\n`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>edge-agent fleet</title>
<style>${STYLE}</style>
</head>
<body>
<h1>edge-agent fleet</h1>
<p class="summary">${summary}</p>
<p>Rendered <time datetime="${new Date(input.nowMs).toISOString()}">${timeText(input.nowMs)}</time>, again on the fleet's next change · receiver ${escapeHtml(input.version)} · <a href="/metrics">metrics</a></p>
${more}<div class="scroll"><table>
<thead><tr>${head}</tr></thead>
<tbody>
${body}</tbody>
</table></div>
</body>
</html>
`;
}
