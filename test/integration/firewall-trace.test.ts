// `edge-agent firewall trace` where it needs the machine: nft's text form read by nft itself in
// a throwaway namespace (as root; without root the error says how to get JSON), and a packet
// without --iif/--oif given the interfaces this host's routes pick, saying which it assumed.
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BUNDLE } from "../helpers/bundle";
import { runAgent } from "../helpers/cli";
import { createNetns, type Netns } from "../helpers/netns";
import { describeWith } from "../helpers/prereqs";

const RULES = `#!/usr/sbin/nft -f
# as /etc/nftables.conf would have it
define tailscale_port = 41641
flush ruleset
table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    iifname "lo" accept
    iifname "eth0" udp dport 53 drop
    udp dport $tailscale_port accept
    udp dport 5000 udp length > 108 drop
    udp dport 5000 accept
  }
  chain output {
    type filter hook output priority 0; policy accept;
    oifname "eth0" udp dport 161 drop
  }
}
`;

const packet = (over: Record<string, string> = {}) => Object.entries({ direction: "in", family: "ipv6", proto: "udp", saddr: "2001:db8:9::1", daddr: "2001:db8:100:1::10", sport: "41641", dport: "41641", ...over }).flatMap(([k, v]) => [`--${k}`, v]);

describeWith({ root: true, binaries: ["nft", "ip", "setpriv"] }, "edge-agent firewall trace on this machine", () => {
  let ns: Netns;
  let dir: string;
  let rules: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ea-fwtrace-"));
    chmodSync(dir, 0o755);
    rules = join(dir, "nftables.conf");
    writeFileSync(rules, RULES, { mode: 0o644 });
    // A host whose routes send 2001:db8:9::/48 and everything else through eth0.
    ns = createNetns("eatrc");
    ns.exec("ip", ["-batch", "-"], ["link add eth0 type veth peer name eth0p", "link set eth0p up", "link set eth0 up", "addr add 2001:db8:100:1::10/64 dev eth0 nodad", "route add 2001:db8:9::/48 dev eth0", "route add ::/0 via 2001:db8:100:1::1 dev eth0"].join("\n") + "\n");
  });
  afterAll(() => {
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reads nft's text form through nft in a throwaway namespace, leaving none behind", async () => {
    const accept = await runAgent(["firewall", "trace", "--ruleset", rules, ...packet({ dport: "41641" }), "--iif", "eth0", "--json"]);
    expect(accept.code, accept.stderr).toBe(0);
    expect(JSON.parse(accept.stdout)).toMatchObject({ verdict: "accept", decidedBy: expect.stringMatching(/^inet filter input handle \d+: udp dport 41641 accept$/) });
    const drop = await runAgent(["firewall", "trace", "--ruleset", rules, "--format", "nft", ...packet({ dport: "53" }), "--iif", "eth0"]);
    expect(drop.code).toBe(1);
    expect(drop.stdout).toMatch(/verdict drop: decided by inet filter input handle \d+: iifname "eth0" udp dport 53 drop/);
    // Other test files make namespaces meanwhile: only trace's own must be gone.
    expect(readdirSync("/run/netns").filter((n) => n.startsWith("edge-agent-trace-"))).toEqual([]);
  });

  it("says what nft refuses, and without root how to give JSON instead", async () => {
    const broken = join(dir, "broken.nft");
    writeFileSync(broken, "table inet filter {\n  chain input { type filter hook input priority 0; udp dport $undefined accept; }\n}\n", { mode: 0o644 });
    const refused = await runAgent(["firewall", "trace", "--ruleset", broken, ...packet(), "--iif", "eth0"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/nft -f .*broken\.nft: .*undefined/s);
    const nobody = await runAgent(["firewall", "trace", "--ruleset", rules, ...packet(), "--iif", "eth0"], { via: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, BUNDLE], env: { ...process.env, HOME: "/tmp" } });
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toContain("nft's text form, which only nft reads: as root, edge-agent loads it into a throwaway network namespace and reads it back; otherwise give nft's JSON (sudo nft -j list ruleset > FILE)");
  });

  it("--length (and \"length\" in --packets lines) gives the UDP payload size that length matches read", async () => {
    const trace = (...extra: string[]) => runAgent(["firewall", "trace", "--ruleset", rules, ...packet({ dport: "5000" }), "--iif", "eth0", ...extra]);
    expect((await trace("--length", "101")).code).toBe(1);
    expect((await trace("--length", "100")).code).toBe(0);
    const sizeless = await trace("--json");
    expect(sizeless.code).toBe(3);
    expect(JSON.parse(sizeless.stdout).reason).toMatch(/udp length > 108 drop: cannot be decided: it matches on a length and the packet has none \(give --length, the UDP payload in bytes\)$/);
    const lines = join(dir, "sizes.jsonl");
    const base = { direction: "in", family: "ipv6", proto: "udp", saddr: "2001:db8:9::1", daddr: "2001:db8:100:1::10", sport: 41641, dport: 5000, iif: "eth0" };
    writeFileSync(lines, [{ ...base, length: 1312 }, { ...base, length: 32 }].map((l) => JSON.stringify(l)).join("\n"), { mode: 0o644 });
    const batch = await runAgent(["firewall", "trace", "--ruleset", rules, "--packets", lines]);
    expect(batch.stdout.trim().split("\n").map((l) => JSON.parse(l).verdict)).toEqual(["drop", "accept"]);
  });

  it("without --iif/--oif takes the interfaces this host's routes give, and says so", async () => {
    const inbound = await runAgent(["firewall", "trace", "--ruleset", rules, ...packet({ dport: "53" })], { netns: ns.name });
    expect(inbound.code, inbound.stderr).toBe(1);
    expect(inbound.stdout).toMatch(/^assumed --iif eth0 \(this host's route to 2001:db8:9::1\)\ntrace in packet: iif "eth0" /);
    const outbound = await runAgent(["firewall", "trace", "--ruleset", rules, ...packet({ direction: "out", saddr: "2001:db8:100:1::10", daddr: "2001:db8:9::1", dport: "161" }), "--json"], { netns: ns.name });
    expect(outbound.code).toBe(1);
    expect(JSON.parse(outbound.stdout)).toMatchObject({ verdict: "drop", assumed: { oif: "eth0" } });
    // Given interfaces are used as they are.
    const given = await runAgent(["firewall", "trace", "--ruleset", rules, ...packet({ dport: "53" }), "--iif", "lo", "--json"], { netns: ns.name });
    expect(JSON.parse(given.stdout)).not.toHaveProperty("assumed");
    expect(given.code).toBe(0);
  });
});
