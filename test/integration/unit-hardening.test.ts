// The agent's unit enforces W^X (MemoryDenyWriteExecute=yes): a process under it may not map
// memory that is writable and executable, nor make memory executable later. Node's JIT needs
// exactly that, so the unit runs `node --jitless`. These tests start the package's bundle the way
// the unit does, W^X included (test/helpers/unit-exec.ts), and check that the enforcement is real.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { BUNDLE } from "../helpers/bundle";
import { runAgent } from "../helpers/cli";
import { waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { startDaemon } from "../helpers/process";
import { MDWE_UNAVAILABLE, mdweLauncher, unitCommand, unitNodeArgv } from "../helpers/unit-exec";

const dir = mkdtempSync(join(tmpdir(), "ea-unit-wx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeWith({ root: true, binaries: ["python3", "nft"] }, "edge-agent.service's MemoryDenyWriteExecute=yes", () => {
  const bundle = BUNDLE;

  it("is enforced by the way the tests start the unit: node with its JIT aborts under it, and starts with the unit's flags", async () => {
    const unitFlags = unitNodeArgv(bundle).filter((a) => a.startsWith("--"));
    expect(unitFlags).toContain("--jitless");
    // runAgent reports a death by signal (V8's abort) as code -1.
    const withJit = await runAgent(["-e", "for (let i = 0; i < 1e5; i++) JSON.stringify({ i })"], { via: [...mdweLauncher(), process.execPath] });
    expect(withJit.code, withJit.stderr).not.toBe(MDWE_UNAVAILABLE);
    expect(withJit.code, "node with its JIT ran under W^X: the enforcement is not in place").not.toBe(0);
    expect(withJit.stderr).toMatch(/SetPermissions|Check failed/);
    const jitless = await runAgent(["-e", "for (let i = 0; i < 1e5; i++) JSON.stringify({ i }); console.log('ran')"], { via: [...mdweLauncher(), process.execPath, ...unitFlags] });
    expect(jitless.stderr).toBe("");
    expect(jitless.stdout).toBe("ran\n");
  });

  it("edge-agent run under it completes its cycles, reads the ruleset with nft, writes the textfile and exits 0 on SIGTERM", async () => {
    const config = join(dir, "run.yaml");
    const textfile = join(dir, "textfile");
    mkdirSync(textfile);
    writeFileSync(
      config,
      [
        "run: { interval: 1s }",
        // Every probe but the firewall's fails at once (port 1, no socket), so the deadline costs
        // nothing; it is long because nft and the parse run without the JIT on a loaded machine.
        "probes: { timeout: 5s, nodeExporter: { url: 'http://127.0.0.1:1/metrics' }, snmpd: { port: 1 } }",
        "tailscale: { socket: /nonexistent/tailscaled.sock }",
        `notifications: { target: '127.0.0.1:1', inform: false, outbox: ${join(dir, "outbox")} }`,
        `textfile: { directory: ${textfile} }`,
        "agentx: { enabled: false }",
        "",
      ].join("\n"),
    );
    const { argv, env } = unitCommand(bundle, ["run", "--config", config]);
    expect(argv[0]).toBe("python3");
    const daemon = startDaemon(argv[0], argv.slice(1), { env });
    try {
      // Two cycles: the last-cycle timestamp has moved on once.
      let firstCycle: string | null = null;
      const metrics = await waitFor("a second cycle in the textfile", () => {
        let text: string;
        try {
          text = readFileSync(join(textfile, "edge_agent.prom"), "utf8");
        } catch {
          return null;
        }
        const stamp = /^edge_agent_last_cycle_timestamp_seconds (\S+)$/m.exec(text)?.[1] ?? null;
        firstCycle ??= stamp;
        return stamp !== null && stamp !== firstCycle ? text : null;
      }, 20_000, 200).catch((error: Error) => {
        throw new Error(`${error.message}\n${daemon.output()}`);
      });
      // The firewall probe read the ruleset with nft, which inherits W^X from the agent.
      expect(metrics, daemon.output()).toMatch(/^edge_agent_probe_up\{probe="firewall"\} 1$/m);
      expect(metrics, daemon.output()).toMatch(/^edge_agent_firewall_verdict\{check="inbound-ipv6",verdict="\w+"\} 1$/m);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode, daemon.output()).toBe(0);
    expect(daemon.output()).not.toMatch(/Check failed|SetPermissions|Fatal error/);
  });
});
