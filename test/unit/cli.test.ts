// The command line: help, version, usage errors (exit 2), and `status --json` on a host with
// nothing installed (no tailscaled, no node-exporter, no snmpd) printing a whole document.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { commands, helpText, runCli } from "../../agent/cli";
import { CHECKS } from "../../agent/doctor/registry";
import { judgePath, notRunning, summariseTailnet, type StatusDocument } from "../../agent/probes/tailscale";
import type { NodeState } from "../../agent/state/node-state";
import { renderStatus } from "../../agent/status-render";
import pkg from "../../package.json";
import { runAgent } from "../helpers/cli";
import { freeTcpPort, freeUdpPort } from "../helpers/ports";
import { defaultScenario, statusDocument } from "../helpers/tailscaled";

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
    expect(out).toMatch(/^Usage: edge-agent status \[--config FILE\] \[--json\]\n\n/);
  });

  it.each(Object.keys(commands))("%s --help: what it does, every option it accepts with its default, exit codes and an example", async (name) => {
    capture();
    expect(await runCli([name, "--help"])).toBe(0);
    const sections = out.trimEnd().split("\n\n");
    expect(sections[0]).toMatch(new RegExp(`^Usage: edge-agent ${name}`));
    expect(sections[1].length).toBeGreaterThan(60);
    const options = sections.find((s) => s.startsWith("Options:\n"))!;
    for (const flag of Object.keys(commands[name].options)) expect(options).toMatch(new RegExp(`^  --${flag}\\b`, "m"));
    expect(options).toMatch(/^ {2}--help +print this help$/m);
    if ("config" in commands[name].options) expect(options).toContain("default /etc/edge-agent/config.yaml");
    expect(sections.find((s) => s.startsWith("Exit codes: 0 "))).toBeDefined();
    expect(sections.at(-1)).toMatch(/^Examples:\n(  \S.*\n?)+$/);
    expect(sections.at(-1)).toContain(`edge-agent ${name}`);
    // Prose is filled to 100 columns; usage lines and examples are kept whole to be copied.
    for (const line of [...sections[1].split("\n"), ...options.split("\n")]) expect(line.length).toBeLessThanOrEqual(100);
  });

  it("doctor --help lists every check id from the registry with what it checks", async () => {
    capture();
    expect(await runCli(["doctor", "--help"])).toBe(0);
    const listed = out.split("Checks (--check ID):\n")[1].split("\n\n")[0].split("\n").map((l) => l.trim().split(/\s+/)[0]);
    expect(listed).toEqual(CHECKS.map((c) => c.id));
    for (const c of CHECKS) expect(out).toContain(c.summary);
  });

  it("the top-level --help keeps one `  edge-agent COMMAND ...` row per command (scripts/test-packages.sh parses them)", async () => {
    capture();
    await runCli(["--help"]);
    const rows = out.split("\n").filter((l) => /^  edge-agent [a-z]/.test(l));
    expect(rows.map((r) => r.split(/\s+/)[2])).toEqual(Object.keys(commands));
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
    expect(Object.keys(state)).toEqual(["agent", "collectedAt", "host", "ipv6", "tailnet", "services", "firewall"]);
    expect(state.agent).toEqual({ version: pkg.version });
    expect(Number.isNaN(Date.parse(state.collectedAt))).toBe(false);
    expect(state.host).toMatchObject({ state: "ok" });
    expect(state.ipv6.state).toBe("ok");
    expect(state.tailnet).toEqual({
      state: "unavailable",
      code: "not-installed",
      error: `tailscaled is not running here: no LocalAPI socket at ${join(dir, "tailscaled.sock")} and no tailscale CLI (install Tailscale, then run: sudo tailscale up)`,
      missingTags: ["tag:monitor"],
      policy: {
        state: "unavailable",
        code: "tailnet-unavailable",
        error: `tailscaled's status could not be read: tailscaled is not running here: no LocalAPI socket at ${join(dir, "tailscaled.sock")} and no tailscale CLI (install Tailscale, then run: sudo tailscale up)`,
      },
    });
    expect(state.services.nodeExporter).toMatchObject({ up: false, version: null, tailnetReachable: null });
    expect(state.services.nodeExporter.error).toMatch(/ECONNREFUSED/);
    expect(state.services.snmpd).toMatchObject({ up: false, sysDescr: null, tailnetReachable: null });
    expect(state.services.snmpd.error).toMatch(/^nothing listens on UDP port \d+ at 127\.0\.0\.1: snmpd is not running/);
    // No tailscaled to say which port it bound: the firewall is asked about the default port.
    expect(state.firewall).toMatchObject({ state: "ok", port: 41641, portSource: "default" });
    expect(state.firewall.checks.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(["inbound-ipv6", "inbound-ipv4", "outbound-ipv6", "outbound-ipv4"]));
  }, 120_000);

  it("the text form says what is missing", async () => {
    const run = await runAgent(["status", "--config", config]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^host {6}\S+ — /);
    expect(run.stdout).toContain("tailnet   unavailable: tailscaled is not running here");
    expect(run.stdout).toMatch(/services  node-exporter DOWN \(.*ECONNREFUSED.*\), on the tailnet IP: n\/a/);
    expect(run.stdout).toMatch(/ {10}snmpd DOWN \(nothing listens on UDP port \d+/);
  }, 120_000);

  it("--version and an unknown flag set the process exit code (0 and 2)", async () => {
    // The other usage errors take the same path; runCli's answers for them are tested above.
    const [version, flag] = await Promise.all([runAgent(["--version"]), runAgent(["status", "--bogus"])]);
    expect(version).toMatchObject({ code: 0, stdout: `edge-agent ${pkg.version}\n`, stderr: "" });
    expect(flag).toMatchObject({ code: 2, stdout: "" });
    expect(flag.stderr).toContain("Unknown option '--bogus'");
  }, 120_000);
});

describe("renderStatus (the text form)", () => {
  const base = (): NodeState => ({
    agent: { version: "0.0.0" },
    collectedAt: "2026-11-28T12:00:00.000Z",
    host: { state: "ok", hostname: "node1", os: "Debian GNU/Linux 12 (bookworm)", kernel: "6.1.0-28-amd64", model: "Raspberry Pi 4 Model B Rev 1.4", arch: "arm64" },
    ipv6: { state: "ok", prefixes: [], primary: null },
    tailnet: {
      ...summariseTailnet(statusDocument({ ...defaultScenario(), backendState: "NeedsLogin" }) as StatusDocument, "localapi", ["tag:monitor"], { ...judgePath(null, null, null), error: notRunning("NeedsLogin") }),
      policy: { state: "unavailable", code: "tailnet-unavailable", error: "tailscaled is NeedsLogin, not Running" },
    },
    services: {
      nodeExporter: { url: "http://127.0.0.1:9100/metrics", up: true, version: "1.5.0", tailnetReachable: null },
      snmpd: { target: "127.0.0.1:161", up: false, sysDescr: null, sysUpTimeSeconds: null, tailnetReachable: null, error: "nothing listens on UDP port 161 at 127.0.0.1: snmpd is not running" },
    },
    firewall: {
      state: "ok",
      port: 41641,
      portSource: "default",
      backend: "nftables",
      notes: ["tailscaled's port is not known; asked about the default 41641"],
      checks: [
        { id: "inbound-ipv6", verdict: "accept", decidedBy: "inet filter input handle 7: udp dport 41641 accept" },
        { id: "inbound-ipv4", verdict: "drop", decidedBy: "inet filter input policy drop" },
        { id: "outbound-ipv6", verdict: "unknown", decidedBy: "", reason: "ip6 filter output handle 3: fib is not modelled" },
      ],
    },
  });

  it("a logged-out host: the state, what is missing and the command to fix it", () => {
    expect(renderStatus(base())).toBe(
      [
        "host      node1 — Debian GNU/Linux 12 (bookworm), kernel 6.1.0-28-amd64, Raspberry Pi 4 Model B Rev 1.4 (arm64)",
        "ipv6      no global IPv6 address",
        "tailnet   NeedsLogin as node1",
        "          tags tag:monitor",
        "          scraper not found: tailscaled is NeedsLogin, not Running: log in with: sudo tailscale up",
        "          policy unavailable: tailscaled is NeedsLogin, not Running",
        "services  node-exporter up 1.5.0, on the tailnet IP: n/a",
        "          snmpd DOWN (nothing listens on UDP port 161 at 127.0.0.1: snmpd is not running), on the tailnet IP: n/a",
        "firewall  UDP 41641 (default), rulesets: nftables",
        "          inbound-ipv6  ACCEPT  inet filter input handle 7: udp dport 41641 accept",
        "          inbound-ipv4  DROP    inet filter input policy drop",
        "          outbound-ipv6 UNKNOWN ip6 filter output handle 3: fib is not modelled",
        "          note: tailscaled's port is not known; asked about the default 41641",
        "",
      ].join("\n"),
    );
  });

  it("unavailable parts say why", () => {
    const state = { ...base(), host: { state: "unavailable" as const, code: "timeout" as const, error: "the host probe did not answer within 2000 ms" }, ipv6: { state: "unavailable" as const, code: "ipv6-disabled" as const, error: "/proc/net/if_inet6 does not exist" } };
    const text = renderStatus(state);
    expect(text).toContain("host      unavailable: the host probe did not answer within 2000 ms\n");
    expect(text).toContain("ipv6      unavailable: /proc/net/if_inet6 does not exist\n");
    const noTailscaled = renderStatus({ ...base(), tailnet: { state: "unavailable", code: "status-unreadable", error: "cannot read tailscaled's status: timeout", missingTags: [], policy: { state: "unavailable", code: "tailnet-unavailable", error: "x" } } });
    expect(noTailscaled).toContain("tailnet   unavailable: cannot read tailscaled's status: timeout\n          policy unknown: tailscaled unavailable\n");
    const noFirewall = renderStatus({ ...base(), firewall: { state: "unavailable", code: "probe-error", error: "reading the ruleset needs CAP_NET_ADMIN" } });
    expect(noFirewall).toContain("firewall  unavailable: reading the ruleset needs CAP_NET_ADMIN\n");
  });
});
