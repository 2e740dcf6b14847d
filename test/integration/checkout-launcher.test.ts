// bin/edge-agent.js, the checkout's launcher (`npx edge-agent`), in a checkout of its own: the
// real launcher files beside small stand-in bundles and sources, so each test can say which one
// ran. It runs the bundle only while no source is newer, through a V8 code cache that never
// outlives the bundle it was made from, keeping the bundle's strict mode, line numbers and exit
// code; after a source edit it runs the sources through tsx.
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/repo";

let root: string;
const bundle = () => join(root, "dist/bundle/edge-agent");
const source = () => join(root, "agent/main.ts");

function launch(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(root, "bin/edge-agent.js"), ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** Writes the stand-in bundle, dated `ageS` seconds ago (sources are dated 100 s ago). */
function writeBundle(lines: string[], ageS = 0): void {
  writeFileSync(bundle(), ["#!/usr/bin/node", '"use strict";', ...lines, ""].join("\n"), { mode: 0o755 });
  const at = Date.now() / 1000 - ageS;
  utimesSync(bundle(), at, at);
}

const caches = () => readdirSync(join(root, "dist/bundle")).filter((f) => f.endsWith(".v8-cache")).sort();

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "ea-launcher-"));
  for (const dir of ["bin", "agent", "dist/bundle", "packaging/patches", "scripts"]) mkdirSync(join(root, dir), { recursive: true });
  for (const file of ["bin/edge-agent.js", "bin/bundle-code-cache.js"]) copyFileSync(join(REPO_ROOT, file), join(root, file));
  // The tsx fallback resolves tsx from the checkout's node_modules.
  symlinkSync(join(REPO_ROOT, "node_modules"), join(root, "node_modules"));
  writeFileSync(join(root, "package-lock.json"), "{}\n");
  writeFileSync(join(root, "scripts/build-bundle.js"), "\n");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeEach(() => {
  for (const f of caches()) rmSync(join(root, "dist/bundle", f));
  writeFileSync(source(), 'const from: string = "the sources";\nprocess.stdout.write(`${from} ran: ${process.argv.slice(2).join(" ")}\\n`);\n');
  const past = Date.now() / 1000 - 100;
  for (const f of [source(), join(root, "package-lock.json"), join(root, "scripts/build-bundle.js")]) utimesSync(f, past, past);
});

describe("the checkout launcher", () => {
  it("runs a fresh bundle with the arguments, writing its command's code cache on the first run and reading it after", async () => {
    writeBundle(['process.stdout.write(`bundle A ran: ${process.argv.slice(2).join(" ")}\\n`);']);
    const first = await launch(["doctor", "--json"]);
    expect(first).toEqual({ code: 0, stdout: "bundle A ran: doctor --json\n", stderr: "" });
    expect(caches()).toEqual(["edge-agent.doctor.v8-cache"]);
    const written = statSync(join(root, "dist/bundle/edge-agent.doctor.v8-cache")).mtimeMs;
    expect(await launch(["doctor", "--json"])).toEqual({ code: 0, stdout: "bundle A ran: doctor --json\n", stderr: "" });
    // Read, not rewritten; another command (or none) gets a cache of its own.
    expect(statSync(join(root, "dist/bundle/edge-agent.doctor.v8-cache")).mtimeMs).toBe(written);
    expect((await launch(["--version"])).stdout).toBe("bundle A ran: --version\n");
    expect(caches()).toEqual(["edge-agent.doctor.v8-cache", "edge-agent.other.v8-cache"]);
  });

  it("never runs a stale bundle: after a source edit it runs the sources through tsx", async () => {
    writeBundle(['process.stdout.write("bundle A ran\\n");'], 50);
    expect((await launch(["status"])).stdout).toBe("bundle A ran\n");
    writeFileSync(source(), 'process.stdout.write(`edited sources ran: ${process.argv.slice(2).join(" ")}\\n`);\n');
    expect(await launch(["status", "--json"])).toEqual({ code: 0, stdout: "edited sources ran: status --json\n", stderr: "" });
    // Sources older than the bundle again: the bundle runs; then a new file under agent/ is an edit too.
    writeFileSync(source(), 'process.stdout.write("sources ran\\n");\n');
    utimesSync(source(), Date.now() / 1000 - 100, Date.now() / 1000 - 100);
    expect((await launch(["status"])).stdout).toBe("bundle A ran\n");
    mkdirSync(join(root, "agent/new"), { recursive: true });
    writeFileSync(join(root, "agent/new/part.ts"), "export {};\n");
    expect((await launch(["status"])).stdout).toBe("sources ran\n");
    rmSync(join(root, "agent/new"), { recursive: true });
  });

  it("a rebuilt bundle runs as rebuilt, though its length equals the old one's (V8 checks only the length)", async () => {
    writeBundle(['process.stdout.write("bundle A ran\\n");']);
    expect((await launch(["doctor"])).stdout).toBe("bundle A ran\n");
    expect(caches()).toEqual(["edge-agent.doctor.v8-cache"]);
    writeBundle(['process.stdout.write("bundle B ran\\n");']);
    expect(await launch(["doctor"])).toEqual({ code: 0, stdout: "bundle B ran\n", stderr: "" });
    // The cache of A was replaced by one of B, which later runs read.
    expect((await launch(["doctor"])).stdout).toBe("bundle B ran\n");
  });

  it("keeps the bundle's strict mode, its line numbers in stack traces, and its exit code", async () => {
    writeBundle(["if (process.argv[2] === 'throw') undeclared = 1;", "process.exitCode = 3;"]);
    expect(await launch(["run"])).toEqual({ code: 3, stdout: "", stderr: "" });
    const thrown = await launch(["throw"]);
    // Sloppy mode would have created a global; strict mode throws, naming line 3 of the bundle.
    expect(thrown.stderr).toContain("ReferenceError: undeclared is not defined");
    expect(thrown.stderr).toContain(`${bundle()}:3`);
    expect(thrown.code).toBe(1);
    expect(existsSync(join(root, "dist/bundle/edge-agent.throw.v8-cache"))).toBe(true);
  });
});
