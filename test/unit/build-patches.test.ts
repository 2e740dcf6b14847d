// The dependency patches the bundle is built with (scripts/build-bundle.js): the shipped patch
// fits the pinned net-snmp exactly once, and a source it no longer fits fails the build.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/repo";

interface Hunk {
  before: string[];
  after: string[];
}
const build = createRequire(__filename)(join(REPO_ROOT, "scripts/build-bundle.js")) as {
  PATCHES: { pkg: string; version: string; file: string }[];
  parsePatch: (text: string, name: string) => { path: string; hunks: Hunk[] }[];
  applyHunks: (source: string, hunks: Hunk[], where: string) => string;
};

describe("dependency patches", () => {
  const [patch] = build.PATCHES;
  const files = build.parsePatch(readFileSync(join(REPO_ROOT, patch.file), "utf8"), patch.file);
  const source = readFileSync(join(REPO_ROOT, "node_modules", patch.pkg, files[0].path), "utf8");

  it("are made for the exact version package.json pins", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
    expect(pkg.dependencies[patch.pkg]).toBe(patch.version);
  });

  it("make net-snmp's providers Proxy traps return true", () => {
    const patched = build.applyHunks(source, files[0].hunks, patch.file);
    const start = patched.indexOf("this.providers = new Proxy");
    const proxy = patched.slice(start, patched.indexOf("});", start) + 3);
    expect(proxy.match(/return true;/g)).toHaveLength(2);
    // Strict-mode assignment and delete through the patched traps no longer throw.
    const mib = new Function(`"use strict"; ${proxy.replace(/^this\.providers = /, "const providersByOid = {}; const p = ")}; p.a = { oid: "1.2" }; delete p.a; return true;`);
    expect(mib()).toBe(true);
  });

  it("refuse a source they no longer fit, and one they fit twice", () => {
    expect(() => build.applyHunks(source.replace("providersByOid[value.oid] = value;", "providersByOid[value.oid] = value ;"), files[0].hunks, "x")).toThrow(/hunk 1 does not match/);
    const hunkText = files[0].hunks[0].before.join("\n");
    expect(() => build.applyHunks(`${hunkText}\n${hunkText}`, files[0].hunks, "x")).toThrow(/matches more than once/);
  });
});
