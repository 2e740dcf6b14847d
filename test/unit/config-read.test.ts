// Reading the config file with bounds: only regular files, at most MAX_CONFIG_BYTES, and YAML
// that cannot expand without limit. Each refusal is a config error (exit 2) naming the file.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, MAX_CONFIG_BYTES } from "../../agent/config";
import { runAgent } from "../helpers/cli";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ea-config-read-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(path: string): ConfigError {
  try {
    loadConfig(path);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${path} to be refused`);
}

/** Nine levels of nine aliases each: 9^9 strings once expanded. */
const ALIAS_BOMB = ["a: &a [x, x, x, x, x, x, x, x, x]", ...["b", "c", "d", "e", "f", "g", "h", "i"].map((k, i, all) => `${k}: &${k} [${Array(9).fill(`*${i === 0 ? "a" : all[i - 1]}`).join(", ")}]`), "scraper: *i"].join("\n");

describe("what the loader reads", () => {
  it("refuses a symlink to /dev/zero at once, as not a regular file", () => {
    const path = join(dir, "zero.yaml");
    symlinkSync("/dev/zero", path);
    const start = performance.now();
    const error = refusal(path);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(error.code).toBe("not-a-file");
    expect(error.message).toBe(`${path}: cannot read the config file: it is a device, not a regular file`);
  });

  it("refuses a FIFO without waiting for a writer", () => {
    const path = join(dir, "fifo.yaml");
    execFileSync("mkfifo", [path]);
    const error = refusal(path);
    expect(error.code).toBe("not-a-file");
    expect(error.message).toBe(`${path}: cannot read the config file: it is a FIFO, not a regular file`);
  });

  it("refuses a directory", () => {
    expect(refusal(dir).message).toBe(`${dir}: cannot read the config file: it is a directory, not a regular file`);
  });

  it(`reads a file of exactly ${MAX_CONFIG_BYTES} bytes and refuses one byte more`, () => {
    const path = join(dir, "big.yaml");
    const head = "scraper: prom1\n";
    writeFileSync(path, head + "#".repeat(MAX_CONFIG_BYTES - head.length));
    expect(loadConfig(path).scraper).toBe("prom1");
    writeFileSync(path, head + "#".repeat(MAX_CONFIG_BYTES - head.length + 1));
    const error = refusal(path);
    expect(error.code).toBe("too-large");
    expect(error.message).toBe(`${path}: the config file is larger than 1024 KiB; a config is a few KiB`);
  });

  it("refuses a YAML alias bomb as a config error naming the file", () => {
    const path = join(dir, "bomb.yaml");
    writeFileSync(path, ALIAS_BOMB);
    const error = refusal(path);
    expect(error.code).toBe("yaml");
    expect(error.message).toMatch(new RegExp(`^${path}: not valid YAML: too many aliases`));
  });

  it("refuses YAML nested too deep for the parser as a config error, each distinct problem told once", () => {
    const path = join(dir, "deep.yaml");
    writeFileSync(path, `scraper: ${"[".repeat(100_000)}\n`);
    const error = refusal(path);
    expect(error.code).toBe("yaml");
    expect(error.problems.length).toBeLessThanOrEqual(3);
    expect(error.message).toMatch(new RegExp(`^${path}: line 1, column \\d+: not valid YAML: `));
  });

  it("still takes a few aliases, as YAML allows", () => {
    const path = join(dir, "aliases.yaml");
    writeFileSync(path, "receiver:\n  communities: &c [community-one]\nprobes:\n  snmpd:\n    community: &s community-two\nnotifications:\n  community: *s\n");
    expect(loadConfig(path).notifications.community).toBe("community-two");
  });
});

describe("the CLI", () => {
  it("exits 2 for an alias bomb, naming the file (not `internal error`, exit 70)", async () => {
    const path = join(dir, "bomb-cli.yaml");
    writeFileSync(path, ALIAS_BOMB);
    const run = await runAgent(["status", "--config", path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^edge-agent: bad config: ${path}: not valid YAML: too many aliases`));
  }, 120_000);

  it("exits 2 for a FIFO instead of waiting for a writer", async () => {
    const path = join(dir, "fifo-cli.yaml");
    execFileSync("mkfifo", [path]);
    const run = await runAgent(["status", "--config", path], { timeoutMs: 30_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`edge-agent: bad config: ${path}: cannot read the config file: it is a FIFO, not a regular file\n`);
  }, 120_000);
});
