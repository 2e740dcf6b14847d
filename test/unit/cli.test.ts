// The command line: help, version, usage errors (exit 2), and `status --json` on a host with
// nothing installed (no tailscaled, no node-exporter, no snmpd) printing a whole document.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { helpText, runCli } from "../../agent/cli";
import pkg from "../../package.json";
import { runAgent } from "../helpers/cli";
import { freeTcpPort, freeUdpPort } from "../helpers/ports";

describe("runCli without a command's handler", () => {
  let out = "";
  let err = "";
  afterEach(() => {
    vi.restoreAllMocks();
    out = "";
    err = "";
  });
  const capture = () => {
    vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => ((out += c.toString()), true));
    vi.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => ((err += c.toString()), true));
  };

  it("--help prints the usage of every command and exits 0", async () => {
    capture();
    expect(await runCli(["--help"])).toBe(0);
    expect(out).toBe(helpText());
    expect(out).toContain("edge-agent status [--config FILE] [--json]");
    expect(out).toContain("edge-agent --version | --help");
    expect(out).toContain("Exit codes: 0 ok; 1");
  });

  it("no command at all prints the usage and exits 2", async () => {
    capture();
    expect(await runCli([])).toBe(2);
    expect(out).toBe(helpText());
  });

  it("--version prints the package version", async () => {
    capture();
    expect(await runCli(["--version"])).toBe(0);
    expect(out).toBe(`edge-agent ${pkg.version}\n`);
  });

  it("an unknown command exits 2 naming it", async () => {
    capture();
    expect(await runCli(["stauts"])).toBe(2);
    expect(err).toMatch(/^edge-agent: unknown command "stauts"\n/);
    expect(out).toBe("");
  });

  it("an unknown flag exits 2 naming it, with the command's usage", async () => {
    capture();
    expect(await runCli(["status", "--jsno"])).toBe(2);
    expect(err).toContain("edge-agent status: Unknown option '--jsno'");
    expect(err).toContain("Usage: edge-agent status [--config FILE] [--json]");
  });

  it("a flag missing its value exits 2", async () => {
    capture();
    expect(await runCli(["status", "--config"])).toBe(2);
    expect(err).toContain("Option '--config <value>' argument missing");
  });

  it("a stray positional argument exits 2", async () => {
    capture();
    expect(await runCli(["status", "extra"])).toBe(2);
    expect(err).toContain("Unexpected argument 'extra'");
  });

  it("status --help prints the command's usage and exits 0", async () => {
    capture();
    expect(await runCli(["status", "--help"])).toBe(0);
    expect(out).toBe("Usage: edge-agent status [--config FILE] [--json]\n");
  });
});

describe("the real launcher", () => {
  let dir: string;
  let config: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ea-cli-"));
    config = join(dir, "config.yaml");
    // Nothing installed: no LocalAPI socket, nobody on these ports.
    writeFileSync(
      config,
      [
        `tailscale: { socket: ${join(dir, "tailscaled.sock")} }`,
        `probes:`,
        `  nodeExporter: { url: "http://127.0.0.1:${await freeTcpPort()}/metrics" }`,
        `  snmpd: { port: ${await freeUdpPort()} }`,
        "",
      ].join("\n"),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("`npx edge-agent status --json` prints the whole document with nothing installed", async () => {
    const run = await runAgent(["status", "--json", "--config", config], { via: ["npx", "--no-install", "edge-agent"] });
    console.log(`npx edge-agent status --json with nothing installed: ${run.ms.toFixed(0)} ms wall time`);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const state = JSON.parse(run.stdout);
    expect(Object.keys(state)).toEqual(["agent", "collectedAt", "host", "ipv6", "tailnet", "services"]);
    expect(state.agent).toEqual({ version: pkg.version });
    expect(Number.isNaN(Date.parse(state.collectedAt))).toBe(false);
    expect(state.host).toMatchObject({ state: "ok" });
    expect(state.ipv6.state).toBe("ok");
    expect(state.tailnet).toEqual({
      state: "unavailable",
      error: `tailscaled is not running here: no LocalAPI socket at ${join(dir, "tailscaled.sock")} and no tailscale CLI`,
      missingTags: ["tag:monitor"],
    });
    expect(state.services.nodeExporter).toMatchObject({ up: false, version: null, tailnetReachable: null });
    expect(state.services.nodeExporter.error).toMatch(/ECONNREFUSED/);
    expect(state.services.snmpd).toMatchObject({ up: false, sysDescr: null, tailnetReachable: null });
    expect(state.services.snmpd.error).toMatch(/^nothing listens on UDP port \d+ at 127\.0\.0\.1: snmpd is not running/);
  }, 120_000);

  it("the text form says what is missing", async () => {
    const run = await runAgent(["status", "--config", config]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^host {6}\S+ — /);
    expect(run.stdout).toContain("tailnet   unavailable: tailscaled is not running here");
    expect(run.stdout).toMatch(/services  node-exporter DOWN \(.*ECONNREFUSED.*\), on the tailnet IP: n\/a/);
    expect(run.stdout).toMatch(/ {10}snmpd DOWN \(nothing listens on UDP port \d+/);
  }, 120_000);

  it("--version, --help, an unknown command and an unknown flag set the process exit code", async () => {
    const [version, help, unknown, flag] = await Promise.all([
      runAgent(["--version"]),
      runAgent(["--help"]),
      runAgent(["frobnicate"]),
      runAgent(["status", "--bogus"]),
    ]);
    expect(version).toMatchObject({ code: 0, stdout: `edge-agent ${pkg.version}\n` });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage:");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--bogus'");
  }, 120_000);
});
