// `edge-agent trap --test` end to end: the CLI probes the node, sends edgeAgentTest to a real
// snmptrapd and reports the acknowledgement and its round trip; no answer is exit 1; a bad
// notifications config is exit 2 naming the key.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPO_ROOT, runAgent, runAgentBatch } from "../helpers/cli";
import { describeWith } from "../helpers/prereqs";
import { startUnit, unitCommand } from "../helpers/unit-exec";
import { createNetns, type Netns } from "../helpers/netns";
import { freeTcpPort, freeUdpPort, waitFor } from "../helpers/ports";
import { startSnmptrapd, type Snmptrapd } from "../helpers/snmptrapd";

const dir = mkdtempSync(join(tmpdir(), "ea-trap-cli-"));
let trapd: Snmptrapd;

/** Probes pointed at closed ports with short timeouts, so the command is quick off a real node. */
const PROBES = ["probes:", "  timeout: 300ms", '  nodeExporter: { url: "http://127.0.0.1:1/metrics" }', "  snmpd: { port: 1 }", "tailscale:", "  socket: /nonexistent/tailscaled.sock"];

function writeConfig(name: string, notifications: string[]): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, [...PROBES, "notifications:", ...notifications.map((l) => `  ${l}`), ""].join("\n"));
  return path;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeWith({ binaries: ["snmptrapd", "python3"] }, "edge-agent trap --test", () => {
  beforeAll(async () => {
    trapd = await startSnmptrapd({ users: [{ name: "traptest", auth: "SHA-256", authKey: "auth-secret-2", priv: "AES", privKey: "priv-secret-2" }] });
  });
  afterAll(async () => {
    await trapd?.stop();
  });

  it("a v3 inform over IPv6 is acknowledged: prints the round trip, exit 0, snmptrapd logs edgeAgentTest", async () => {
    const config = writeConfig("v3", [`target: "[::1]:${trapd.port}"`, "version: 3", "inform: true", "timeout: 1s", "retries: 1", "user: { name: traptest, authProtocol: sha256, authKey: auth-secret-2, privProtocol: aes, privKey: priv-secret-2 }"]);
    const { code, stdout, stderr } = await runAgent(["trap", "--test", "--config", config]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^test inform \\(SNMPv3\\) to udp6:\\[::1\\]:${trapd.port} acknowledged in \\d+ ms\\n$`));
    const got = trapd.received().find((n) => n.name === "EDGE-AGENT-MIB::edgeAgentTest" && n.security.startsWith("INFORM, SNMP v3, user traptest"));
    expect(got, trapd.output()).toBeDefined();
    expect(got!.values.edgeAgentNotificationSequence).toBe("Gauge32: 0");
    expect(got!.values.edgeAgentEventSummary).toMatch(/^STRING: test notification from .+ \(edge-agent trap --test\)$/);
    // The probes ran: node-exporter on port 1 does not answer.
    expect(got!.values.edgeAgentNodeExporterUp).toBe("INTEGER: false(2)");
  });

  it("the package's bundle, started as the unit starts it (node flags, environment, W^X enforced; crypto loaded on first use), sends the same v3 inform and prints nothing else", async () => {
    const out = join(dir, "bundle");
    const build = await runAgent([], { via: ["bash", join(REPO_ROOT, "scripts/build.sh")], env: { ...process.env, BUNDLE_OUT: out } });
    expect(build.code, build.stderr).toBe(0);
    const config = writeConfig("v3-bundle", [`target: "127.0.0.1:${trapd.port}"`, "version: 3", "inform: true", "timeout: 1s", "retries: 1", "user: { name: traptest, authProtocol: sha256, authKey: auth-secret-2, privProtocol: aes, privKey: priv-secret-2 }"]);
    const before = trapd.received().length;
    const unit = unitCommand(join(out, "edge-agent"), []);
    const { code, stdout, stderr } = await runAgent(["trap", "--test", "--config", config], { via: unit.argv, env: unit.env });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^test inform \(SNMPv3\) to udp:127\.0\.0\.1:\d+ acknowledged in \d+ ms\n$/);
    expect(trapd.received().slice(before).some((n) => n.name === "EDGE-AGENT-MIB::edgeAgentTest" && n.security.startsWith("INFORM, SNMP v3, user traptest"))).toBe(true);
  });

  it("a v2c trap is sent (no acknowledgement to wait for): exit 0 and snmptrapd logs it", async () => {
    const config = writeConfig("v2c-trap", [`target: "127.0.0.1:${trapd.port}"`, "version: 2c", "community: edgetest", "inform: false"]);
    const before = trapd.received().length;
    const { code, stdout } = await runAgent(["trap", "--test", "--config", config]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^test trap \(SNMPv2c\) sent to udp:127\.0\.0\.1:\d+ \(traps are not acknowledged/);
    // Nothing acknowledges a trap: wait for snmptrapd's line, then check it is the only one.
    await waitFor("the trap in snmptrapd's log", () => trapd.received().length > before, 5000, 20);
    const got = trapd.received().slice(before);
    expect(got.map((n) => [n.name, n.security.split(",")[0]])).toEqual([["EDGE-AGENT-MIB::edgeAgentTest", "TRAP2"]]);
  });

  it("an inform nobody answers: exit 1 and says what to check", async () => {
    const silent = await freeUdpPort();
    const config = writeConfig("silent", [`target: "127.0.0.1:${silent}"`, "version: 2c", "community: edgetest", "inform: true", "timeout: 200ms", "retries: 1"]);
    const { code, stdout, stderr } = await runAgent(["trap", "--test", "--config", config]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/test inform \(SNMPv2c\) to udp:127\.0\.0\.1:\d+ failed: Request timed out/);
    expect(stderr).toMatch(/is the receiver running/);
  });

  it("a wrong v3 authKey gets no acknowledgement: exit 1, and says snmptrapd answered with a wrong-digest report", async () => {
    const config = writeConfig("wrong-user", [`target: "127.0.0.1:${trapd.port}"`, "version: 3", "inform: true", "timeout: 300ms", "retries: 0", "user: { name: traptest, authProtocol: sha256, authKey: wrong-secret, privProtocol: aes, privKey: priv-secret-2 }"]);
    const { code, stderr } = await runAgent(["trap", "--test", "--config", config]);
    expect(code).toBe(1);
    expect(stderr).toContain("The receiver answered with a wrong-digest report: notifications.user's authKey or authProtocol do not match the receiver's user traptest.");
  });

  it("a wrong v3 authKey against edge-agent receive: says the receiver answered discovery but not the inform", async () => {
    const port = await freeUdpPort();
    const receiverConfig = join(dir, "receiver.yaml");
    writeFileSync(
      receiverConfig,
      JSON.stringify({
        receiver: { listen: [`udp:127.0.0.1:${port}`], users: [{ name: "traptest", authProtocol: "sha256", authKey: "auth-secret-2", privProtocol: "aes", privKey: "priv-secret-2" }], metrics: `127.0.0.1:${await freeTcpPort()}`, fileSd: join(dir, "sd.yml"), state: join(dir, "fleet.json") },
      }),
    );
    const receiver = startUnit(["receive", "--config", receiverConfig], { unit: "edge-agent-receiver.service" });
    try {
      await waitFor("receiver started", () => receiver.output().includes('"msg":"receiver started"'), 20_000);
      const config = writeConfig("wrong-key-receive", [`target: "127.0.0.1:${port}"`, "version: 3", "inform: true", "timeout: 300ms", "retries: 0", "user: { name: traptest, authProtocol: sha256, authKey: wrong-secret, privProtocol: aes, privKey: priv-secret-2 }"]);
      const { code, stderr } = await runAgent(["trap", "--test", "--config", config]);
      expect(code).toBe(1);
      expect(stderr).toContain("The receiver answered v3 engine discovery, so it runs and is reachable, but did not acknowledge the inform");
      await waitFor("the receiver's wrong_digest line", () => receiver.output().includes('"reason":"wrong_digest"'));
    } finally {
      await receiver.stop();
    }
  });

  it("bad notifications config: exit 2 naming the file and the key, for each mistake", async () => {
    const cases = [
      ["an unknown auth protocol", ["version: 3", "inform: true", "user: { name: u, authProtocol: sha999, authKey: auth-secret, privKey: priv-secret }"], /notifications\.user\.authProtocol: expected one of md5, sha, sha224, sha256, sha384, sha512, got string "sha999"/],
      ["a short auth key", ["version: 3", "inform: true", "user: { name: u, authProtocol: sha256, authKey: short, privKey: priv-secret }"], /notifications\.user\.authKey: expected at least 8 characters/],
      ["a missing community", ["version: 2c", 'community: ""'], /notifications\.community: notifications\.version is 2c, so a community is required/],
      ["v3 traps without an engine ID", ["version: 3", "inform: false", "user: { name: u, authProtocol: sha256, authKey: auth-secret, privKey: priv-secret }"], /notifications\.engineId: v3 traps need a fixed engine ID/],
      ["a v3 user without a privKey", ["version: 3", "inform: true", "user: { name: u, authProtocol: sha256, authKey: auth-secret, privProtocol: aes }"], /notifications\.user\.privKey: privProtocol is aes/],
      ["a target without a port", ["target: scraper"], /notifications\.target: expected host:port/],
      ["a target port out of range", ["target: scraper:70000"], /notifications\.target: .*"scraper:70000"/],
    ] as const;
    const configs = cases.map(([what, lines]) => writeConfig(`bad-${what.replace(/\W+/g, "-")}`, lines as unknown as string[]));
    const runs = await runAgentBatch(configs.map((config) => ["trap", "--test", "--config", config]));
    cases.forEach(([what, , key], i) => {
      expect({ what, code: runs[i].code, stdout: runs[i].stdout }).toEqual({ what, code: 2, stdout: "" });
      expect(runs[i].stderr).toContain(`edge-agent: bad config: ${configs[i]}: notifications.`);
      expect(runs[i].stderr).toMatch(key);
    });
  });

  it("the exit code reaches the shell: a bad config through the launcher is exit 2", async () => {
    const config = writeConfig("bad-launcher", ["version: 3", "inform: true", "user: { name: u, authProtocol: sha999, authKey: auth-secret, privKey: priv-secret }"]);
    const { code, stderr } = await runAgent(["trap", "--test", "--config", config]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/notifications\.user\.authProtocol/);
  });

  it("without --test: exit 2 with usage", async () => {
    const [{ code, stderr }] = await runAgentBatch([["trap"]]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Usage: edge-agent trap --test \[--config FILE\]/);
  });
});

describeWith({ root: true, binaries: ["snmptrapd", "ip"] }, "edge-agent trap --test to a scraper name that resolves to IPv6 only", () => {
  let ns: Netns;
  let nsTrapd: Snmptrapd;
  beforeAll(async () => {
    ns = createNetns("eatrap");
    // `ip netns exec` bind-mounts /etc/netns/<name>/hosts over /etc/hosts: a name only this test knows.
    mkdirSync(`/etc/netns/${ns.name}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns.name}/hosts`, "127.0.0.1 localhost\n::1 scraper-v6only\n");
    nsTrapd = await startSnmptrapd({ netns: ns.name });
  });
  afterAll(async () => {
    await nsTrapd?.stop();
    ns?.remove();
    if (ns) rmSync(`/etc/netns/${ns.name}`, { recursive: true, force: true });
  });

  it("resolves the name, sends over udp6 and gets the acknowledgement", async () => {
    const config = writeConfig("by-name-v6", [`target: "scraper-v6only:${nsTrapd.port}"`, "version: 2c", "community: edgetest", "inform: true", "timeout: 1s", "retries: 1"]);
    const { code, stdout, stderr } = await runAgent(["trap", "--test", "--config", config], { netns: ns.name });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^test inform \\(SNMPv2c\\) to udp6:\\[::1\\]:${nsTrapd.port} acknowledged in \\d+ ms\\n$`));
    const got = nsTrapd.received();
    expect(got.map((n) => [n.name, n.transport.split(":")[0]])).toEqual([["EDGE-AGENT-MIB::edgeAgentTest", "UDP/IPv6"]]);
  });
});
