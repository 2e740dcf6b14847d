// The one line every benchmark ends with (see README.md here): what scripts/bench/all.ts collects.

export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  /** The reference's figure from the same run, or null. */
  reference: number | null;
  referenceName?: string;
  ratio: number | null;
  target: string | null;
  pass: boolean | null;
  note?: string;
}

export interface BenchResult {
  bench: string;
  rows: BenchRow[];
}

export function emitBenchResult(bench: string, rows: BenchRow[]): void {
  process.stdout.write(`${JSON.stringify({ bench, rows } satisfies BenchResult)}\n`);
}

/** The result line among a benchmark's output: its last line that parses as one. */
export function parseBenchResult(stdout: string): BenchResult | null {
  const lines = stdout.trimEnd().split("\n").reverse();
  for (const line of lines) {
    const t = line.trim();
    if (!t.startsWith("{")) continue;
    try {
      const j = JSON.parse(t) as Partial<BenchResult>;
      if (typeof j.bench === "string" && Array.isArray(j.rows)) return j as BenchResult;
    } catch {
      /* not the result line */
    }
    return null; // the convention: the result is the last JSON line
  }
  return null;
}
