// Runs every benchmark in scripts/bench/ one after another, passes their output through, and
// ends with one table of all their figures (value, reference from the same run, ratio, target),
// headed by the date and the machine, so the README can show one current picture.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseBenchResult, type BenchRow } from "./report";

const HERE = __dirname;
const REPO = resolve(HERE, "../..");
const TSX_CLI = join(REPO, "node_modules/tsx/dist/cli.mjs");
const NOT_BENCHMARKS = new Set(["all.ts", "report.ts"]);

/**
 * The top-level scripts of scripts/bench, except this runner, the result helper, and any script
 * another one names (a reference such as receiver-bare.ts runs as a benchmark's child).
 */
export function discoverBenchmarks(dir = HERE): string[] {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") && !NOT_BENCHMARKS.has(e.name))
    .map((e) => e.name);
  const texts = new Map(files.map((f) => [f, readFileSync(join(dir, f), "utf8")]));
  const helpers = new Set(files.filter((f) => files.some((other) => other !== f && texts.get(other)!.includes(`"${f}"`))));
  return files
    .filter((f) => !helpers.has(f))
    .map((f) => join(dir, f))
    .sort();
}

interface Outcome {
  bench: string;
  seconds: number;
  rows: BenchRow[];
  error: string | null;
}

function runOne(file: string, timeoutMs: number): Promise<Outcome> {
  const bench = basename(file, ".ts");
  const start = Date.now();
  return new Promise((resolveOutcome) => {
    process.stdout.write(`\n=== ${bench} (${file.replace(`${REPO}/`, "")}) ===\n`);
    // --expose-gc: the memory figures are taken after a full GC, not whenever V8 last ran one.
    const child = spawn(process.execPath, ["--expose-gc", TSX_CLI, file], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      process.stdout.write(d);
    });
    child.stderr.on("data", (d: Buffer) => process.stderr.write(d));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - start) / 1000;
      const result = parseBenchResult(stdout);
      let error: string | null = null;
      if (signal) error = `killed by ${signal}${seconds * 1000 >= timeoutMs ? ` after the ${timeoutMs / 1000} s timeout` : ""}`;
      else if (code !== 0) error = `exited ${code}`;
      else if (!result) error = "printed no result line (see scripts/bench/README.md)";
      resolveOutcome({ bench, seconds, rows: result?.rows ?? [], error });
    });
  });
}

export function machine(): string {
  const cpu = cpus();
  // The load average says whether the figures were taken on a quiet machine.
  const load = loadavg().map((l) => l.toFixed(2)).join(" ");
  return `${cpu[0]?.model.trim() ?? "unknown CPU"}, ${cpu.length} CPUs (nproc), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Linux ${release()}, Node ${process.version}, load average ${load} at the start`;
}

function fmt(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "—";
  if (Number.isInteger(n)) return String(n);
  return Number(n.toPrecision(digits)).toString();
}

export function tableRows(outcomes: Outcome[]): string[][] {
  const rows: string[][] = [];
  for (const o of outcomes) {
    if (o.error) rows.push([o.bench, "(failed)", o.error, "", "", "", "FAIL"]);
    for (const r of o.rows) {
      rows.push([
        o.bench,
        r.metric,
        `${fmt(r.value)} ${r.unit}`.trim(),
        r.reference === null || r.reference === undefined ? "—" : `${fmt(r.reference)}${r.referenceName ? ` (${r.referenceName})` : ""}`,
        r.ratio === null || r.ratio === undefined ? "—" : `${fmt(r.ratio)}x`,
        r.target ?? "—",
        r.pass === true ? "ok" : r.pass === false ? "MISSED" : "—",
      ]);
    }
  }
  return rows;
}

const HEADER = ["bench", "metric", "value", "reference", "ratio", "target", "pass"];

export function renderText(rows: string[][]): string {
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(HEADER), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function renderMarkdown(rows: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, "\\|");
  return [`| ${HEADER.join(" | ")} |`, `|${HEADER.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { only: { type: "string", multiple: true }, markdown: { type: "boolean" }, timeout: { type: "string" } } });
  const timeoutMs = Number(values.timeout ?? 1800) * 1000;
  let files = discoverBenchmarks();
  if (values.only?.length) {
    const unknown = values.only.filter((o) => !files.some((f) => basename(f, ".ts") === o));
    if (unknown.length) {
      process.stderr.write(`all.ts: no benchmark ${unknown.join(", ")} (there are: ${files.map((f) => basename(f, ".ts")).join(", ")})\n`);
      return 2;
    }
    files = files.filter((f) => values.only!.includes(basename(f, ".ts")));
  }
  if (files.length === 0) {
    process.stderr.write("all.ts: no benchmarks in scripts/bench/ yet\n");
    return 1;
  }
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const where = machine();
  const outcomes: Outcome[] = [];
  for (const f of files) outcomes.push(await runOne(f, timeoutMs));
  const rows = tableRows(outcomes);
  process.stdout.write(`\n=== summary: ${date} on ${where} ===\n`);
  process.stdout.write(`${values.markdown ? renderMarkdown(rows) : renderText(rows)}\n`);
  process.stdout.write(`(${outcomes.map((o) => `${o.bench} ${o.seconds.toFixed(0)} s`).join(", ")})\n`);
  return outcomes.some((o) => o.error) ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`all.ts: ${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
