import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { removeStaleTemps, writeFileAtomic } from "../../agent/receiver/atomic-write";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("atomic write", () => {
  it("says which directory it had to create, and writes the content", () => {
    const dir = mkdtempSync(join(tmpdir(), "ea-atomic-"));
    dirs.push(dir);
    expect(writeFileAtomic(join(dir, "sd", "x.yml"), "a")).toBe(join(dir, "sd"));
    expect(writeFileAtomic(join(dir, "sd", "x.yml"), "b")).toBeUndefined();
    expect(readFileSync(join(dir, "sd", "x.yml"), "utf8")).toBe("b");
  });

  it("removes the temporary files earlier processes left for that file, and nothing else", () => {
    const dir = mkdtempSync(join(tmpdir(), "ea-atomic-"));
    dirs.push(dir);
    for (const name of [".fleet.json.123.tmp", ".fleet.json.99999.tmp", ".other.json.123.tmp", "fleet.json", ".fleet.json.x.tmp"]) writeFileSync(join(dir, name), "");
    expect(removeStaleTemps(join(dir, "fleet.json")).sort()).toEqual([".fleet.json.123.tmp", ".fleet.json.99999.tmp"]);
    expect(readdirSync(dir).sort()).toEqual([".fleet.json.x.tmp", ".other.json.123.tmp", "fleet.json"]);
    expect(removeStaleTemps(join(dir, "missing", "fleet.json"))).toEqual([]);
  });
});
