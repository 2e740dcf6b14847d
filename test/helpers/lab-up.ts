// One netns lab per e2e test file: up before the file's tests (this run's bundle, a directory and
// a namespace prefix of its own), down after them. The getter fails a test at once, naming why
// `up` failed or which command the bundle lacks, instead of every assertion timing out.
import { mkdtempSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";
import { labDown, labUp, type LabState } from "../../scripts/netns-lab/lab";
import { BUNDLE } from "./bundle";

/** `letter` starts the namespace prefix (`<letter><pid>`), so two files' labs can run at once. */
export function labForFile(letter: string, options: { pair?: boolean } = {}): () => LabState {
  let lab: LabState | null = null;
  let upError: Error | null = null;
  const log: string[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync("/run/edge-agent-e2e-");
    try {
      lab = await labUp({ dir, prefix: `${letter}${process.pid % 100000}`, log: (l) => log.push(l), bundle: BUNDLE, pair: options.pair });
    } catch (error) {
      upError = error as Error;
    }
  }, 120_000);

  afterAll(async () => {
    if (lab) await labDown({ dir: lab.dir, prefix: lab.prefix, log: () => {} });
  }, 60_000);

  return () => {
    if (upError || !lab) throw new Error(`scripts/lab up${options.pair ? " --pair" : ""} failed: ${upError?.message ?? "not up"}\n${log.join("\n")}`);
    const missing = ["run", "receive"].filter((c) => !lab!.commands.includes(c));
    if (missing.length) {
      throw new Error(`this checkout's edge-agent has no ${missing.map((c) => `\`${c}\``).join(" or ")} command, so the lab runs without it`);
    }
    return lab;
  };
}
