// `edge-agent firewall check` on a live "host" (a network namespace): it reads the loaded nft
// ruleset and the legacy ip6tables tables, takes the port tailscaled reports (fake LocalAPI),
// the namespace's own addresses, and answers; without CAP_NET_ADMIN every answer is unknown.
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createNetns, type Netns } from "../helpers/netns";
import { describeWith } from "../helpers/prereqs";
import { defaultScenario, startFakeTailscaled, type FakeTailscaled } from "../helpers/tailscaled";

const BIN = join(__dirname, "..", "..", "bin", "edge-agent.js");

function check(ns: Netns, config: string, asUser?: string): Promise<{ code: number; doc: Record<string, any>; err: string }> {
  const prefix = asUser ? ["setpriv", `--reuid=${asUser}`, `--regid=${asUser}`, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"] : [];
  return new Promise((resolve) => {
    execFile("ip", ["netns", "exec", ns.name, ...prefix, process.execPath, BIN, "firewall", "check", "--config", config, "--json"], { timeout: 60_000, env: { ...process.env, HOME: "/tmp" } }, (error, out, err) => {
      let doc: Record<string, any> = {};
      try { doc = JSON.parse(out); } catch { doc = { unparsed: out }; }
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, doc, err });
    });
  });
}

describeWith({ root: true, binaries: ["nft", "ip6tables-legacy-restore", "setpriv"] }, "edge-agent firewall check on a live ruleset", () => {
  let ns: Netns;
  let tailscaled: FakeTailscaled;
  let config: string;
  let dir: string;
  beforeAll(async () => {
    ns = createNetns("fwk");
    ns.exec("ip", ["-batch", "-"], ["link add eth0 type veth peer name eth0p", "link set eth0p up", "link set eth0 up", "addr add 2001:db8:100:1::10/64 dev eth0 nodad", "addr add 192.0.2.10/24 dev eth0"].join("\n") + "\n");
    tailscaled = await startFakeTailscaled({ ...defaultScenario(), selfAddrs: ["[2001:db8:100:1::10]:41700", "192.0.2.10:41700"] });
    dir = mkdtempSync(join(tmpdir(), "ea-fwcheck-"));
    chmodSync(dir, 0o755);
    config = join(dir, "config.yaml");
    writeFileSync(config, `tailscale:\n  socket: ${tailscaled.socket}\nipv6:\n  allocations: [2001:db8:100::/48]\nfirewall:\n  port: auto\n  forwardPrefixes: [2001:db8:100::/56]\n`);
    chmodSync(config, 0o644);
  });
  afterAll(async () => {
    ns?.remove();
    await tailscaled?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers every question from the port tailscaled bound, naming the deciding rules", async () => {
    ns.exec("nft", ["-f", "-"], `flush ruleset
table inet filter {
  chain input { type filter hook input priority 0; policy drop; ct state established,related accept; udp dport 41700 accept; }
  chain output { type filter hook output priority 0; policy drop; udp dport 53 accept; }
  chain forward { type filter hook forward priority 0; policy drop; meta l4proto udp th sport 41700 ip6 saddr 2001:db8:100::/56 ct state new accept; }
}
`);
    const r = await check(ns, config);
    expect(r.doc).toMatchObject({ state: "ok", port: 41700, portSource: "localapi", backend: "nftables" });
    const byId = Object.fromEntries((r.doc.checks as { id: string; verdict: string; decidedBy: string }[]).map((c) => [c.id, c]));
    expect(Object.keys(byId)).toEqual(["inbound-ipv6", "inbound-ipv4", "outbound-ipv6", "outbound-ipv4", "forward-ipv6"]);
    expect(byId["inbound-ipv6"]).toMatchObject({ verdict: "accept", decidedBy: expect.stringMatching(/^inet filter input handle \d+: udp dport 41700 accept$/) });
    expect(byId["inbound-ipv4"].verdict).toBe("accept");
    expect(byId["outbound-ipv6"]).toMatchObject({ verdict: "drop", decidedBy: "inet filter output: policy drop" });
    expect(byId["forward-ipv6"].verdict).toBe("accept");
    expect(r.code).toBe(1);
  });

  it("reads the legacy ip6tables tables too: their drop wins over nft's accept", async () => {
    ns.exec("nft", ["flush", "ruleset"]);
    ns.exec("ip6tables-legacy-restore", [], "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p udp -m udp --dport 41700 -j DROP\nCOMMIT\n");
    try {
      const r = await check(ns, config);
      expect(r.doc.backend).toBe("nftables+iptables-legacy");
      const inbound6 = r.doc.checks.find((c: { id: string }) => c.id === "inbound-ipv6");
      expect(inbound6).toMatchObject({ verdict: "drop", decidedBy: "ip6 filter INPUT (iptables-legacy) rule 1: -A INPUT -p udp -m udp --dport 41700 -j DROP" });
      expect(r.doc.checks.find((c: { id: string }) => c.id === "inbound-ipv4").verdict).toBe("accept");
      expect(r.code).toBe(1);
    } finally {
      ns.exec("ip6tables-legacy-restore", [], "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");
    }
  });

  it("on a host without global IPv6 the IPv6 questions are not asked, which is not unknown: the exit code comes from the rest", async () => {
    const v4only = createNetns("fwk4");
    try {
      v4only.exec("ip", ["-batch", "-"], ["link add eth0 type veth peer name eth0p", "link set eth0p up", "link set eth0 up", "addr add 192.0.2.10/24 dev eth0"].join("\n") + "\n");
      v4only.exec("nft", ["-f", "-"], "table inet filter {\n  chain input { type filter hook input priority 0; policy drop; udp dport 41700 accept; }\n}\n");
      const json = await check(v4only, config);
      const byId = Object.fromEntries((json.doc.checks as { id: string; verdict: string; packet?: unknown }[]).map((c) => [c.id, c]));
      expect(byId["inbound-ipv6"]).toMatchObject({ verdict: "unknown", reason: "the host has no global IPv6 address" });
      expect(byId["inbound-ipv6"].packet).toBeUndefined();
      expect(byId["inbound-ipv4"].verdict).toBe("accept");
      expect(json.code, JSON.stringify(json.doc.checks)).toBe(0);
      const text = await new Promise<string>((resolve) => execFile("ip", ["netns", "exec", v4only.name, process.execPath, BIN, "firewall", "check", "--config", config], { env: { ...process.env, HOME: "/tmp" } }, (_e, out) => resolve(out)));
      expect(text).toMatch(/^inbound-ipv6 +not asked the host has no global IPv6 address$/m);
      expect(text).toMatch(/^inbound-ipv4 +accept +inet filter input handle \d+: udp dport 41700 accept$/m);
    } finally {
      v4only.remove();
    }
  });

  it("without CAP_NET_ADMIN every check is unknown and says how to fix it", async () => {
    const r = await check(ns, config, "65534");
    expect(r.code, r.err).toBe(3);
    expect(r.doc.checks.length).toBeGreaterThan(0);
    for (const c of r.doc.checks) {
      expect(c.verdict).toBe("unknown");
      expect(c.reason).toMatch(/CAP_NET_ADMIN/);
    }
  });

  it("a router's forward chain that matches interfaces is judged with the ones its routing table picks", async () => {
    // The service prefix lives behind lan0; the internet is behind eth0's default route.
    ns.exec("ip", ["-batch", "-"], ["link add lan0 type veth peer name lan0p", "link set lan0p up", "link set lan0 up", "route add 2001:db8:100::/56 dev lan0", "route add ::/0 via 2001:db8:100:1::1 dev eth0"].join("\n") + "\n");
    const forward = (oif: string) => `flush ruleset
table inet filter {
  chain forward { type filter hook forward priority 0; policy drop; iifname "lan0" oifname "${oif}" meta l4proto udp th sport 41700 ip6 saddr 2001:db8:100::/56 ct state new accept; }
}
`;
    ns.exec("nft", ["-f", "-"], forward("eth0"));
    let r = await check(ns, config);
    let fwd = r.doc.checks.find((c: { id: string }) => c.id === "forward-ipv6");
    expect(fwd).toMatchObject({ verdict: "accept", packet: { iif: "lan0", oif: "eth0", saddr: "2001:db8:100::1" } });
    expect(r.doc.notes ?? []).not.toContainEqual(expect.stringMatching(/forward check/));

    ns.exec("nft", ["-f", "-"], forward("wan9"));
    r = await check(ns, config);
    fwd = r.doc.checks.find((c: { id: string }) => c.id === "forward-ipv6");
    expect(fwd).toMatchObject({ verdict: "drop", decidedBy: "inet filter forward: policy drop" });
  });
});
