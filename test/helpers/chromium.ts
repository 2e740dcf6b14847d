// Debian's chromium, headless, as a test drives a browser without a driver library: one run per
// page, its DOM (--dump-dom) or a screenshot (--screenshot), in a fresh profile removed after.
// The flags keep it from reaching anything but the page: no sync, no component updates, no
// background networking, no QUIC.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"];

export function chromium(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const profile = mkdtempSync(join(tmpdir(), "ea-chromium-"));
  return new Promise((resolve) => {
    execFile("chromium", [...FLAGS, `--user-data-dir=${profile}`, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The page's DOM after Chromium parsed and rendered it. */
export async function dumpDom(url: string): Promise<string> {
  const run = await chromium(["--dump-dom", url]);
  if (run.code !== 0 || !run.stdout.includes("</html>")) throw new Error(`chromium --dump-dom ${url} failed (${run.code}): ${run.stderr}`);
  return run.stdout;
}

/** Takes a screenshot of `url` at width x height into `file`. */
export async function screenshot(url: string, file: string, width: number, height: number): Promise<void> {
  const run = await chromium([`--screenshot=${file}`, `--window-size=${width},${height}`, url]);
  if (run.code !== 0) throw new Error(`chromium --screenshot ${url} failed (${run.code}): ${run.stderr}`);
}
