// `edge-agent firewall trace|check` as a user runs it: exit codes, --json shape, --packets lines,
// the readable trace, usage errors; and the probe's port choice, its missing-capability answer and
// how a ruleset tool's failure reads.
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { configFromObject } from "../../agent/config";
import { parseNftJson } from "../../agent/firewall/nft-json";
import { hasCapability, probeFirewall, RulesetUnreadable, runTool, tailscaledSocketPort } from "../../agent/probes/firewall";

const dir = mkdtempSync(join(tmpdir(), "ea-fw-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const RULESET = join(dir, "ruleset.json");
writeFileSync(RULESET, JSON.stringify({ nftables: [
  { metainfo: { json_schema_version: 1 } },
  { table: { family: "inet", name: "filter" } },
  { chain: { family: "inet", table: "filter", name: "input", type: "filter", hook: "input", prio: 0, policy: "drop" } },
  { rule: { family: "inet", table: "filter", chain: "input", handle: 4, expr: [{ match: { op: "==", left: { payload: { protocol: "udp", field: "dport" } }, right: 41641 } }, { accept: null }] } },
  { rule: { family: "inet", table: "filter", chain: "input", handle: 5, expr: [{ match: { op: "==", left: { payload: { protocol: "udp", field: "dport" } }, right: 53 } }, { match: { op: "==", left: { fib: { result: "oif", flags: ["daddr"] } }, right: false } }, { drop: null }] } },
] }));
const SAVE = join(dir, "rules.v4");
writeFileSync(SAVE, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p udp -m udp --dport 5000 -j DROP\nCOMMIT\n");

const BIN = join(__dirname, "..", "..", "bin", "edge-agent.js");

/** The real command line, as a user runs it (exit code, stdout, stderr). */
function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (error, out, err) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out, err });
    });
  });
}

const PACKET = ["--direction", "in", "--family", "ipv6", "--proto", "udp", "--saddr", "2001:db8::1", "--daddr", "2001:db8::2", "--sport", "41641", "--iif", "eth0"];


describe("edge-agent firewall trace", () => {
  it("exits 0 on accept and prints the --json shape", async () => {
    const r = await run("firewall", "trace", "--ruleset", RULESET, ...PACKET, "--dport", "41641", "--json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.verdict).toBe("accept");
    expect(doc.trace).toEqual([{ family: "inet", table: "filter", chain: "input", handle: 4, rule: "udp dport 41641 accept", result: "accept" }]);
    expect(doc.decidedBy).toBe("inet filter input handle 4: udp dport 41641 accept");
  });

  it("exits 1 on drop, with a readable trace like nft monitor trace", async () => {
    const r = await run("firewall", "trace", "--ruleset", RULESET, ...PACKET, "--dport", "9");
    expect(r.code).toBe(1);
    expect(r.out).toContain('trace in packet: iif "eth0" ip6 saddr 2001:db8::1 ip6 daddr 2001:db8::2 udp sport 41641 udp dport 9 ct state new');
    expect(r.out).toContain("trace inet filter input policy drop");
    expect(r.out).toContain("verdict drop: decided by inet filter input: policy drop");
  });

  it("exits 3 when a rule it cannot evaluate is reached, naming it", async () => {
    const r = await run("firewall", "trace", "--ruleset", RULESET, ...PACKET, "--dport", "53", "--json");
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out).reason).toMatch(/^inet filter input handle 5: .*fib/);
  });

  it("reads iptables-save text, the format detected", async () => {
    const r = await run("firewall", "trace", "--ruleset", SAVE, "--direction", "in", "--family", "ipv4", "--proto", "udp", "--saddr", "192.0.2.1", "--daddr", "192.0.2.2", "--sport", "1", "--dport", "5000", "--json");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).trace[0].rule).toBe("-A INPUT -p udp -m udp --dport 5000 -j DROP");
  });

  it("--packets prints one JSON line per packet, in order, bad lines named", async () => {
    const packets = join(dir, "packets.jsonl");
    const base = { direction: "in", family: "ipv6", proto: "udp", saddr: "2001:db8::1", daddr: "2001:db8::2", sport: 41641, iif: "eth0" };
    writeFileSync(packets, [JSON.stringify({ ...base, dport: 41641 }), JSON.stringify({ ...base, dport: 9 }), "", "{oops", JSON.stringify({ ...base, dport: 41641, ctState: "bogus" })].join("\n"));
    const r = await run("firewall", "trace", "--ruleset", RULESET, "--packets", packets);
    const lines = r.out.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.verdict ?? "error")).toEqual(["accept", "drop", "error", "error"]);
    expect(lines[2].error).toMatch(/packets.jsonl line 4/);
    expect(lines[3].error).toMatch(/line 5: ctState must be one of new\|established\|related\|untracked/);
    expect(r.code).toBe(2);
  });

  it("bad usage and unreadable rulesets exit 2 with the reason", async () => {
    expect((await run("firewall", "trace", "--ruleset", RULESET, ...PACKET)).err).toMatch(/missing --dport/);
    const bad = await run("firewall", "trace", "--ruleset", RULESET, ...PACKET, "--dport", "70000");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--dport must be a port from 0 to 65535, got "70000"/);
    const garbage = join(dir, "garbage.json");
    writeFileSync(garbage, '{"nftables": [{"table": ');
    const g = await run("firewall", "trace", "--ruleset", garbage, ...PACKET, "--dport", "1");
    expect(g.code).toBe(2);
    expect(g.err).toMatch(/garbage.json: not valid JSON/);
    expect((await run("firewall", "frobnicate")).code).toBe(2);
    expect((await run("firewall", "check", "--ruleset", RULESET)).err).toMatch(/belong to `firewall trace`/);
  });
});

describe("firewall probe", () => {
  const config = (firewall: Record<string, unknown> = {}) => configFromObject({ firewall }, null);
  const ruleset = async () => ({ ruleset: parseNftJson(await import("node:fs").then((fs) => fs.readFileSync(RULESET, "utf8"))), backend: "nftables" });
  const ipv6 = { state: "ok" as const, primary: "2001:db8:1::/64", prefixes: [{ prefix: "2001:db8:1::/64", interface: "eth0", inAllocation: null, addresses: [{ address: "2001:db8:1::5", prefixLength: 64, flags: [] }] }] };

  it("asks about the port tailscaled reported, over the host's address", async () => {
    const fw = await probeFirewall({ config: config(), tailnetPort: 41641, ipv6, readRuleset: ruleset });
    expect(fw).toMatchObject({ state: "ok", port: 41641, portSource: "localapi", backend: "nftables" });
    expect(fw.checks.map((c) => c.id)).toEqual(["inbound-ipv6", "inbound-ipv4", "outbound-ipv6", "outbound-ipv4"]);
    expect(fw.checks[0]).toMatchObject({ verdict: "accept", decidedBy: "inet filter input handle 4: udp dport 41641 accept" });
  });

  it("a configured port wins; forwardPrefixes add forward checks", async () => {
    const fw = await probeFirewall({ config: config({ port: 5000, forwardPrefixes: ["2001:db8:100::/56"] }), tailnetPort: 41641, ipv6, readRuleset: ruleset });
    expect(fw.port).toBe(5000);
    expect(fw.checks[0].verdict).toBe("drop");
    expect(fw.checks.at(-1)).toMatchObject({ id: "forward-ipv6", verdict: "accept" });
  });

  it("several prefixes of one family make one forward check: the worst verdict, named with its prefix", async () => {
    // A policy-drop forward chain that lets 2001:db8:100::/56 through, as DESIGN.md's router does.
    const router = async () => ({
      backend: "nftables",
      ruleset: parseNftJson(JSON.stringify({ nftables: [
        { metainfo: { json_schema_version: 1 } },
        { table: { family: "inet", name: "filter", handle: 1 } },
        { chain: { family: "inet", table: "filter", name: "forward", handle: 1, type: "filter", hook: "forward", prio: 0, policy: "drop" } },
        { rule: { family: "inet", table: "filter", chain: "forward", handle: 2, expr: [{ match: { op: "==", left: { payload: { protocol: "ip6", field: "saddr" } }, right: { prefix: { addr: "2001:db8:100::", len: 56 } } } }, { accept: null }] } },
      ] })),
    });
    const fw = await probeFirewall({ config: config({ forwardPrefixes: ["2001:db8:100::/56", "2001:db8:999::/56"] }), tailnetPort: 41641, ipv6, readRuleset: router });
    const forward = fw.checks.filter((c) => c.id.startsWith("forward-"));
    expect(forward).toHaveLength(1);
    expect(forward[0]).toMatchObject({ id: "forward-ipv6", verdict: "drop", packet: { saddr: "2001:db8:999::1" } });
    expect(forward[0].decidedBy).toMatch(/^2001:db8:999::\/56: /);
    const both = await probeFirewall({ config: config({ forwardPrefixes: ["2001:db8:100::/56", "2001:db8:100:80::/57"] }), tailnetPort: 41641, ipv6, readRuleset: router });
    expect(both.checks.filter((c) => c.id === "forward-ipv6")).toEqual([expect.objectContaining({ verdict: "accept", decidedBy: expect.stringMatching(/^2001:db8:100::\/56: /) })]);
  });

  it("a ruleset that cannot be read says why as a code: the reader's own, else ruleset-read-failed", async () => {
    const denied = await probeFirewall({ config: config(), tailnetPort: 41641, ipv6, readRuleset: async () => { throw new RulesetUnreadable("needs-cap-net-admin", "reading the ruleset needs CAP_NET_ADMIN"); } });
    expect(denied.unreadable).toEqual({ code: "needs-cap-net-admin", error: "reading the ruleset needs CAP_NET_ADMIN" });
    const broken = await probeFirewall({ config: config(), tailnetPort: 41641, ipv6, readRuleset: async () => { throw new Error("nft: unexpected end of input"); } });
    expect(broken.unreadable?.code).toBe("ruleset-read-failed");
    expect((await probeFirewall({ config: config(), tailnetPort: 41641, ipv6, readRuleset: ruleset })).unreadable).toBeUndefined();
  });

  it("reads CAP_NET_ADMIN from the effective capability set, not from a tool's words", () => {
    expect(hasCapability("Name:\tnode\nCapEff:\t000001ffffffffff\n", 12)).toBe(true);
    expect(hasCapability("Name:\tnode\nCapEff:\t0000000000000000\n", 12)).toBe(false);
    expect(hasCapability("Name:\tnode\nCapEff:\t0000000000001000\n", 12)).toBe(true);
    expect(hasCapability("no such line", 12)).toBe(false);
  });

  it("without CAP_NET_ADMIN every check is unknown and says why", async () => {
    const fw = await probeFirewall({ config: config(), tailnetPort: 41641, ipv6, readRuleset: async () => { throw new Error("reading the ruleset needs CAP_NET_ADMIN: run as root"); } });
    expect(fw.checks.every((c) => c.verdict === "unknown" && /CAP_NET_ADMIN/.test(c.reason ?? ""))).toBe(true);
  });

  it("a ruleset tool that overruns its timeout says so, not just that the command failed", async () => {
    expect(await runTool("sleep", ["5"], 200)).toEqual({ stdout: "", missing: false, denied: false, error: "sleep 5: did not finish within 200 ms (probes.timeout)" });
    expect(await runTool("ls", ["/nonexistent-edge-agent"], 5000)).toMatchObject({ missing: false, denied: false, error: expect.stringMatching(/^ls \/nonexistent-edge-agent: ls: cannot access/) });
    expect(await runTool("edge-agent-no-such-tool", [], 5000)).toMatchObject({ missing: true });
  });

  it("finds the UDP port of tailscaled's socket through /proc", async () => {
    const proc = mkdtempSync(join(tmpdir(), "ea-proc-"));
    mkdirSync(join(proc, "4242", "fd"), { recursive: true });
    mkdirSync(join(proc, "net"));
    writeFileSync(join(proc, "4242", "comm"), "tailscaled\n");
    symlinkSync("socket:[777]", join(proc, "4242", "fd", "9"));
    mkdirSync(join(proc, "99", "fd"), { recursive: true });
    writeFileSync(join(proc, "99", "comm"), "other\n");
    symlinkSync("socket:[778]", join(proc, "99", "fd", "3"));
    const header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n";
    writeFileSync(join(proc, "net", "udp6"), `${header}  1: 00000000000000000000000000000000:A2B9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2 0 0\n  2: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 778 2 0 0\n`);
    writeFileSync(join(proc, "net", "udp"), header);
    try {
      expect(await tailscaledSocketPort(proc)).toBe(41657);
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });
});
