// Bundle budget: size of dist/bundle/edge-agent against 3 MB, and its start-up time against a
// bare `node -e 0` (and the checkout's launcher, bin/edge-agent.js, which runs the fresh bundle),
// measured side by side in one run.
// Usage: npm run build && npx tsx scripts/bench/bundle.ts [runs]
import { execFileSync, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { emitBenchResult } from "./report";

const root = join(__dirname, "../..");
const bundle = join(root, "dist/bundle/edge-agent");
const runs = Number(process.argv[2] ?? 30);
const BUDGET_BYTES = 3 * 1024 * 1024;

const cases: Record<string, string[]> = {
  "node -e 0": ["-e", "0"],
  "bundle --version": [bundle, "--version"],
  "bundle status --help": [bundle, "status", "--help"],
  "checkout launcher --version": [join(root, "bin/edge-agent.js"), "--version"],
};

function once(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { stdio: "ignore" });
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited ${result.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Fresh, as `npm ci` leaves it: the launcher runs the bundle only when it is newer than the sources.
execFileSync("bash", [join(root, "scripts/build.sh")], { cwd: root, stdio: ["ignore", 2, 2] });
const size = statSync(bundle).size;
console.log(`bundle size: ${(size / 1024).toFixed(0)} KiB of ${BUDGET_BYTES / 1024} KiB budget (${((size / BUDGET_BYTES) * 100).toFixed(0)}%)`);

// Interleaved, so load from other processes hits every case alike.
const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const args of Object.values(cases)) once(args); // warm the page cache
for (let i = 0; i < runs; i++) for (const [name, args] of Object.entries(cases)) times[name].push(once(args));

const base = median(times["node -e 0"]);
console.log(`start-up, median of ${runs} runs on node ${process.version}:`);
for (const [name, xs] of Object.entries(times))
  console.log(`  ${name.padEnd(24)} ${median(xs).toFixed(1).padStart(7)} ms  ${(median(xs) / base).toFixed(2)}x node -e 0`);

const rowFor = (name: string) => ({ value: Math.round(median(times[name]) * 10) / 10, ratio: Math.round((median(times[name]) / base) * 100) / 100 });
emitBenchResult("bundle", [
  { metric: "bundle size", value: Math.round(size / 1024), unit: "KiB", reference: BUDGET_BYTES / 1024, referenceName: "the 3 MB budget", ratio: Math.round((size / BUDGET_BYTES) * 100) / 100, target: "<= 3 MB", pass: size <= BUDGET_BYTES },
  { metric: "start-up, bundle --version (median)", ...rowFor("bundle --version"), unit: "ms", reference: Math.round(base * 10) / 10, referenceName: "node -e 0", target: null, pass: null },
  { metric: "start-up, checkout launcher --version (median)", ...rowFor("checkout launcher --version"), unit: "ms", reference: Math.round(base * 10) / 10, referenceName: "node -e 0", target: null, pass: null },
]);
