// The benchmark result line (scripts/bench/README.md) and the table all.ts prints from it.
import { describe, expect, it } from "vitest";
import { renderMarkdown, renderText, tableRows } from "../../scripts/bench/all";
import { parseBenchResult } from "../../scripts/bench/report";

const row = { metric: "idle RSS", value: 51.234, unit: "MiB", reference: 45.1, referenceName: "node -e", ratio: 1.136, target: "<= 1.25x", pass: true };

describe("parseBenchResult", () => {
  it("takes the last JSON line, after whatever the benchmark printed", () => {
    const out = `measuring...\n{"not":"it"}\nIPv6 poll: 12 ms\n${JSON.stringify({ bench: "daemon", rows: [row] })}\n`;
    expect(parseBenchResult(out)).toEqual({ bench: "daemon", rows: [row] });
  });

  it("is null when the last JSON line is not a result, or there is none", () => {
    expect(parseBenchResult(`${JSON.stringify({ bench: "x", rows: [] })}\n{"other": 1}\n`)).toBeNull();
    expect(parseBenchResult("just text\n")).toBeNull();
    expect(parseBenchResult('{"bench": "x", "rows": [\n')).toBeNull();
  });
});

describe("the summary table", () => {
  const outcomes = [
    { bench: "daemon", seconds: 3, rows: [row, { ...row, metric: "CPU per cycle", value: 41, unit: "ms", reference: null, ratio: null, target: "< 30 ms", pass: false }], error: null },
    { bench: "receiver", seconds: 1, rows: [], error: "exited 1" },
  ];

  it("has a row per figure, misses and failures spelled out", () => {
    const rows = tableRows(outcomes);
    expect(rows).toEqual([
      ["daemon", "idle RSS", "51.2 MiB", "45.1 (node -e)", "1.14x", "<= 1.25x", "ok"],
      ["daemon", "CPU per cycle", "41 ms", "—", "—", "< 30 ms", "MISSED"],
      ["receiver", "(failed)", "exited 1", "", "", "", "FAIL"],
    ]);
  });

  it("renders as aligned text and as Markdown", () => {
    const rows = tableRows(outcomes);
    const text = renderText(rows).split("\n");
    expect(text[0]).toMatch(/^bench\s+metric\s+value\s+reference\s+ratio\s+target\s+pass$/);
    expect(text[2].indexOf("idle RSS")).toBe(text[0].indexOf("metric"));
    expect(renderMarkdown(rows).split("\n")[2]).toBe("| daemon | idle RSS | 51.2 MiB | 45.1 (node -e) | 1.14x | <= 1.25x | ok |");
  });
});

describe("discoverBenchmarks", () => {
  it("runs top-level scripts, not itself, the result helper, or a child another script names", async () => {
    const { mkdtempSync, writeFileSync, mkdirSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { discoverBenchmarks } = await import("../../scripts/bench/all");
    const dir = mkdtempSync(join(tmpdir(), "ea-bench-"));
    for (const f of ["all.ts", "report.ts", "daemon.ts", "firewall.ts", "receiver-sender.ts", "types.d.ts"]) writeFileSync(join(dir, f), "// x\n");
    writeFileSync(join(dir, "receiver.ts"), 'spawn(process.execPath, [join(__dirname, "receiver-sender.ts")]);\n');
    mkdirSync(join(dir, "lib"));
    writeFileSync(join(dir, "lib", "shared.ts"), "// x\n");
    try {
      expect(discoverBenchmarks(dir).map((f) => f.slice(dir.length + 1))).toEqual(["daemon.ts", "firewall.ts", "receiver.ts"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
