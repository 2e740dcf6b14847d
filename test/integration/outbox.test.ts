// The outbox across a receiver outage and a killed agent: notifications made while snmptrapd is
// down survive SIGKILL of the notifier's process, and once the receiver is back every one
// arrives, in sequence order, with its original event time; duplicates share a sequence number.
// On a small tmpfs: a read-only outbox holding an interrupted write still loads and delivers,
// and a full one is logged once, not once per file it fails to write.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, expect, it } from "vitest";
import { describeWith } from "../helpers/prereqs";
import { freeUdpPort, waitFor } from "../helpers/ports";
import { startDaemon, type Daemon } from "../helpers/process";
import { startSnmptrapd, type Snmptrapd } from "../helpers/snmptrapd";

const CHILD = resolve(__dirname, "../helpers/notifier-child.ts");
const running: Array<Daemon | Snmptrapd> = [];
const dirs: string[] = [];
const mounts: string[] = [];

afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  for (const m of mounts.splice(0)) execFileSync("umount", [m]);
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A config and an outbox directory on its own small tmpfs, for a receiver on `port`. */
function tmpfsOutbox(port: number, sizeKb: number): { dir: string; outbox: string; configPath: string } {
  const dir = mkdtempSync(join(tmpdir(), "ea-outbox-fs-"));
  dirs.push(dir);
  const outbox = join(dir, "outbox");
  mkdirSync(outbox);
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k`, "tmpfs", outbox]);
  mounts.push(outbox);
  const configPath = join(dir, "config.yaml");
  writeFileSync(configPath, ["notifications:", `  target: 127.0.0.1:${port}`, "  version: 2c", "  community: edgetest", "  inform: true", "  timeout: 200ms", "  retries: 0", `  outbox: ${outbox}`, ""].join("\n"));
  return { dir, outbox, configPath };
}

function startChild(configPath: string): Daemon {
  const child = startDaemon(process.execPath, ["-r", "tsx/cjs", CHILD, configPath], { stdio: ["pipe", "pipe", "pipe"], cwd: resolve(__dirname, "../..") });
  running.push(child);
  return child;
}

function lastStats(child: Daemon): { sent: number; queued: number; failed: number; acknowledged: number } | null {
  const lines = child.output().split("\n").filter((l) => l.startsWith("stats "));
  return lines.length ? JSON.parse(lines[lines.length - 1].slice(6)) : null;
}

async function notify(child: Daemon, n: number, summary: string): Promise<void> {
  child.child.stdin!.write(`${JSON.stringify({ event: { kind: "pathChanged", summary }, hostname: "outbox-node" })}\n`);
  await waitFor(`"queued ${n}" from the notifier`, () => child.output().includes(`queued ${n}\n`), 30_000).catch((e) => {
    throw new Error(`${e.message}\nnotifier:\n${child.output().slice(-3000)}`);
  });
}

function kill(child: Daemon): Promise<void> {
  return new Promise((done) => {
    child.child.once("exit", () => done());
    child.child.kill("SIGKILL");
  });
}

/** snmptrapd's DateAndTime rendering (2026-11-28,13:16:59.5,+0:0) -> epoch ms. */
function parseEventTime(value: string): number {
  const m = /^STRING: (\d+)-(\d+)-(\d+),(\d+):(\d+):(\d+)\.(\d)/.exec(value)!;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7] * 100);
}

describeWith({ binaries: ["snmptrapd"] }, "outbox across a receiver outage and SIGKILL", () => {
  it("delivers every queued inform once the receiver is back, in sequence order, with the original event times", async () => {
    const port = await freeUdpPort();
    const dir = mkdtempSync(join(tmpdir(), "ea-outbox-it-"));
    dirs.push(dir);
    const configPath = join(dir, "config.yaml");
    writeFileSync(configPath, ["notifications:", `  target: 127.0.0.1:${port}`, "  version: 2c", "  community: edgetest", "  inform: true", "  timeout: 200ms", "  retries: 0", `  outbox: ${join(dir, "outbox")}`, ""].join("\n"));

    // Receiver down: three events, then the agent is killed without warning.
    const first = startChild(configPath);
    for (let i = 1; i <= 3; i++) await notify(first, i, `event ${i}`);
    await waitFor("a failed delivery attempt", () => (lastStats(first)?.failed ?? 0) >= 1, 30_000);
    await kill(first);
    expect(readdirSync(join(dir, "outbox")).filter((f) => f.endsWith(".json") && f.startsWith("n-"))).toHaveLength(3);

    // Restarted, still no receiver: two more events continue the sequence.
    const second = startChild(configPath);
    for (let i = 1; i <= 2; i++) await notify(second, i, `event ${3 + i}`);
    await waitFor("the restarted notifier to hold all five", () => lastStats(second)?.queued === 5, 30_000);
    const beforeReceiver = Date.now();
    await new Promise((r) => setTimeout(r, 200));

    // The receiver comes back on the same port.
    const trapd = await startSnmptrapd({ port });
    running.push(trapd);
    await waitFor("all five acknowledged", () => lastStats(second)?.queued === 0, 30_000).catch((e) => {
      throw new Error(`${e.message}\nnotifier:\n${second.output().slice(-3000)}\n${trapd.output()}`);
    });

    const got = trapd.received().filter((n) => n.values.edgeAgentHostName === "STRING: outbox-node");
    const sequences = got.map((n) => Number(n.values.edgeAgentNotificationSequence.replace("Gauge32: ", "")));
    // A receiver drops duplicates by sequence; what remains is 1..5 in order.
    const unique = sequences.filter((s, i) => sequences.indexOf(s) === i);
    expect(unique).toEqual([1, 2, 3, 4, 5]);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    for (const n of got) expect(n.values.edgeAgentEventSummary).toBe(`STRING: event ${n.values.edgeAgentNotificationSequence.replace("Gauge32: ", "")}`);
    // Event times are when the events happened, before the receiver was even started.
    for (const n of got) expect(parseEventTime(n.values.edgeAgentEventTime)).toBeLessThanOrEqual(beforeReceiver);
    expect(got.every((n) => n.name === "EDGE-AGENT-MIB::edgeAgentPathChanged")).toBe(true);
  }, 120_000);
});

describeWith({ root: true, binaries: ["snmptrapd", "mount"] }, "outbox on a read-only or full filesystem", () => {
  it("loads and delivers a read-only outbox that holds an interrupted write", async () => {
    const port = await freeUdpPort();
    const { outbox, configPath } = tmpfsOutbox(port, 1024);
    const first = startChild(configPath);
    await notify(first, 1, "queued before the remount");
    await waitFor("a failed delivery attempt", () => (lastStats(first)?.failed ?? 0) >= 1, 30_000);
    await kill(first);
    // A write a crash cut short, then the filesystem goes read-only (as after an I/O error).
    writeFileSync(join(outbox, ".tmp-n-0000000002.json"), "interrupted write");
    execFileSync("mount", ["-o", "remount,ro", outbox]);
    const trapd = await startSnmptrapd({ port });
    running.push(trapd);
    const second = startChild(configPath);
    await waitFor("the queued notification delivered", () => trapd.received().some((n) => n.values.edgeAgentEventSummary === "STRING: queued before the remount"), 30_000).catch((e) => {
      throw new Error(`${e.message}\nnotifier:\n${second.output().slice(-3000)}`);
    });
    expect(second.output()).toContain("cannot remove the interrupted write");
    expect(second.output()).not.toContain("cannot use the outbox directory");
  }, 120_000);

  it("logs a full outbox filesystem once, not once per file it cannot write", async () => {
    const port = await freeUdpPort();
    const { outbox, configPath } = tmpfsOutbox(port, 64);
    const trapd = await startSnmptrapd({ port });
    running.push(trapd);
    const child = startChild(configPath);
    await notify(child, 1, "before the disk fills");
    await waitFor("the first delivered", () => lastStats(child)?.acknowledged === 1, 30_000);
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${join(outbox, "filler")}`, "bs=4k", "count=64"], { stdio: "ignore" });
    } catch {
      /* ENOSPC: the filesystem is full, which is the point */
    }
    for (let i = 2; i <= 11; i++) await notify(child, i, `full disk ${i}`);
    await waitFor("all eleven acknowledged", () => lastStats(child)?.acknowledged === 11, 30_000);
    const errors = child.output().split("\n").filter((l) => l.includes('"outbox: cannot'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('"code":"ENOSPC"');
  }, 120_000);
});
