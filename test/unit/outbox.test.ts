// The durable outbox on a temp directory: sequence numbers survive restarts, entries reload in
// order, the bound drops the oldest and counts it, damaged files never stop a load, and with
// several targets an entry stays until each has it, across restarts and changes of the targets.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Outbox, type OutboxEntry } from "../../agent/snmp/outbox";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), "ea-outbox-unit-"));
  dirs.push(d);
  return join(d, "outbox");
}

function entry(sequence: number, summary = `event ${sequence}`): OutboxEntry {
  return { sequence, at: new Date(Date.UTC(2026, 10, 28, 12, 0, sequence)).toISOString(), event: { kind: "pathChanged", summary }, objects: { edgeAgentEventSummary: summary, edgeAgentNotificationSequence: sequence } };
}

function reopen(path: string, max = 100, targets: readonly string[] = ["scraper:162"]): Outbox {
  const outbox = new Outbox(path, max, targets);
  outbox.load();
  return outbox;
}

describe("Outbox", () => {
  it("numbers from 1 and keeps counting across restarts, also after the queue emptied", () => {
    const path = dir();
    const a = reopen(path);
    const first = entry(a.nextSequence());
    const second = entry(a.nextSequence());
    expect([first.sequence, second.sequence]).toEqual([1, 2]);
    a.add(first);
    a.add(second);
    a.remove(2);
    a.remove(1);
    expect(readdirSync(path).filter((f) => f.startsWith("n-"))).toEqual([]);
    const b = reopen(path);
    expect(b.nextSequence()).toBe(3);
  });

  it("writes one file per notification while queueing; state.json only when delivery removes one", () => {
    const path = dir();
    const a = reopen(path);
    for (let i = 0; i < 3; i++) a.add(entry(a.nextSequence()));
    expect(readdirSync(path).sort()).toEqual(["n-0000000001.json", "n-0000000002.json", "n-0000000003.json"]);
    a.remove(1);
    expect(JSON.parse(readFileSync(join(path, "state.json"), "utf8"))).toEqual({ lastSequence: 3, dropped: 0 });
  });

  it("reloads undelivered entries in sequence order with their original times", () => {
    const path = dir();
    const a = reopen(path);
    for (let i = 0; i < 12; i++) a.add(entry(a.nextSequence()));
    a.remove(3);
    const b = reopen(path);
    expect(b.pending().map((e) => e.sequence)).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(b.pending()[0]).toEqual(entry(1));
    expect(b.nextSequence()).toBe(13);
  });

  it("drops the oldest beyond max, returns them and counts drops across restarts", () => {
    const path = dir();
    const a = reopen(path, 3);
    const dropped: number[] = [];
    for (let i = 0; i < 5; i++) dropped.push(...a.add(entry(a.nextSequence())).map((e) => e.sequence));
    expect(dropped).toEqual([1, 2]);
    expect(a.pending().map((e) => e.sequence)).toEqual([3, 4, 5]);
    expect(a.dropped).toBe(2);
    const b = reopen(path, 3);
    expect(b.dropped).toBe(2);
    expect(readdirSync(path).filter((f) => f.startsWith("n-")).sort()).toEqual(["n-0000000003.json", "n-0000000004.json", "n-0000000005.json"]);
  });

  it("continues after an entry whose sequence the state file never recorded (crash between the two writes)", () => {
    const path = dir();
    const a = reopen(path);
    a.add(entry(a.nextSequence()));
    writeFileSync(join(path, "n-0000000007.json"), JSON.stringify(entry(7)));
    expect(reopen(path).nextSequence()).toBe(8);
  });

  it("moves a damaged entry aside, says so, and still loads the rest", () => {
    const path = dir();
    const a = reopen(path);
    a.add(entry(a.nextSequence()));
    a.add(entry(a.nextSequence()));
    writeFileSync(join(path, "n-0000000001.json"), "{ half a file");
    writeFileSync(join(path, ".tmp-n-0000000003.json"), "interrupted write");
    const b = reopen(path);
    expect(b.pending().map((e) => e.sequence)).toEqual([2]);
    expect(b.problems).toHaveLength(1);
    expect(b.problems[0]).toMatch(/n-0000000001\.json: .*moved aside to n-0000000001\.json\.bad/);
    expect(readdirSync(path).sort()).toEqual(["n-0000000001.json.bad", "n-0000000002.json"]);
    expect(b.nextSequence()).toBe(3);
  });

  it("survives a damaged state file by counting on from the entries", () => {
    const path = dir();
    const a = reopen(path);
    a.add(entry(a.nextSequence()));
    a.add(entry(a.nextSequence()));
    writeFileSync(join(path, "state.json"), "not json");
    const b = reopen(path);
    expect(b.problems[0]).toMatch(/state\.json: .*sequence continues from the queued entries/);
    expect(b.nextSequence()).toBe(3);
  });

  it("writes its files 0640 and its directory 0750 (summaries name hosts and addresses)", () => {
    const path = dir();
    const a = reopen(path);
    a.add(entry(a.nextSequence()));
    a.add(entry(a.nextSequence()));
    a.remove(2);
    expect(statSync(path).mode & 0o777).toBe(0o750);
    expect(statSync(join(path, "n-0000000001.json")).mode & 0o777).toBe(0o640);
    expect(statSync(join(path, "state.json")).mode & 0o777).toBe(0o640);
  });

  it("keeps an entry until every target has it, and remembers across a restart which ones do", () => {
    const path = dir();
    const targets = ["scraper-a:162", "scraper-b:162"];
    const a = reopen(path, 100, targets);
    for (let i = 0; i < 3; i++) a.add(entry(a.nextSequence()));
    a.markDelivered(1, "scraper-a:162");
    a.markDelivered(2, "scraper-a:162");
    expect(a.nextFor("scraper-a:162")?.sequence).toBe(3);
    expect(a.nextFor("scraper-b:162")?.sequence).toBe(1);
    expect([a.queuedFor("scraper-a:162"), a.queuedFor("scraper-b:162"), a.size]).toEqual([1, 3, 3]);
    // As after kill -9: only what reached the disk counts.
    const b = reopen(path, 100, targets);
    expect(b.nextFor("scraper-a:162")?.sequence).toBe(3);
    expect(b.pending().map((e) => [e.sequence, b.owedTo(e)])).toEqual([[1, ["scraper-b:162"]], [2, ["scraper-b:162"]], [3, targets]]);
    b.markDelivered(1, "scraper-b:162");
    expect(readdirSync(path).filter((f) => f.startsWith("n-")).sort()).toEqual(["n-0000000002.json", "n-0000000003.json"]);
    expect(b.nextSequence()).toBe(4);
  });

  it("loads an outbox written before several targets existed: its entries are owed to every target", () => {
    const path = dir();
    const old = reopen(path);
    old.add(entry(old.nextSequence()));
    old.add(entry(old.nextSequence()));
    // The files an earlier version wrote: no delivered field at all.
    for (const name of readdirSync(path).filter((f) => f.startsWith("n-"))) expect(JSON.parse(readFileSync(join(path, name), "utf8"))).not.toHaveProperty("delivered");
    const upgraded = reopen(path, 100, ["scraper-a:162", "scraper-b:162"]);
    expect(upgraded.nextFor("scraper-a:162")?.sequence).toBe(1);
    expect(upgraded.nextFor("scraper-b:162")?.sequence).toBe(1);
    expect(upgraded.nextSequence()).toBe(3);
  });

  it("follows the configured targets: one added gets what is queued, one removed is no longer waited for", () => {
    const path = dir();
    const a = reopen(path, 100, ["scraper-a:162", "scraper-b:162"]);
    for (let i = 0; i < 3; i++) a.add(entry(a.nextSequence()));
    a.markDelivered(1, "scraper-a:162");
    a.markDelivered(2, "scraper-a:162");
    // scraper-b is gone: entries 1 and 2 were only waiting for it.
    const b = reopen(path, 100, ["scraper-a:162", "scraper-c:162"]);
    expect(b.nextFor("scraper-c:162")?.sequence).toBe(1);
    const c = reopen(path, 100, ["scraper-a:162"]);
    expect(c.pending().map((e) => e.sequence)).toEqual([3]);
    expect(readdirSync(path).filter((f) => f.startsWith("n-"))).toEqual(["n-0000000003.json"]);
  });
});
