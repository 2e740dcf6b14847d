// `edge-agent doctor --check firewall-port` on a node whose firewall is managed the stock way:
// ufw enabled with its default policy, firewalld in its default zone (public). Both drop
// tailscaled's port inbound until the operator opens it; doctor must say so and name the rule
// that decided, and pass once the port is opened the tool's way (`ufw allow 41641/udp`, and
// for firewalld the command doctor's fix gives).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runAgent } from "../helpers/cli";
import { createNetns, type Netns } from "../helpers/netns";
import { describeWith } from "../helpers/prereqs";
import { defaultScenario, startFakeTailscaled, type FakeTailscaled } from "../helpers/tailscaled";
import { EtcOverlay, Firewalld, inNetns } from "./firewall-tools";

type Finding = { id: string; status: string; finding: string; fix: string | null };

describeWith({ root: true, binaries: ["nft", "ufw", "firewalld", "firewall-cmd", "dbus-daemon"] }, "doctor's firewall-port check on stock ufw and firewalld hosts", () => {
  let ns: Netns;
  let etc: EtcOverlay;
  let tailscaled: FakeTailscaled;
  let dir: string;
  let config: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ea-fwdoctor-"));
    ns = createNetns("eafwd");
    etc = new EtcOverlay(ns.name);
    // A node: eth0 with a global IPv6 /64 and a public IPv4 address, default routes through it.
    ns.exec("ip", ["link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer"]);
    ns.exec("ip", ["-batch", "-"], ["link set eth0-peer up", "link set eth0 up", "addr add 192.0.2.10/24 dev eth0", "addr add 2001:db8:100:1::10/64 dev eth0 nodad", "route add default via 192.0.2.1 dev eth0", "route add ::/0 via 2001:db8:100:1::1 dev eth0"].join("\n") + "\n");
    tailscaled = await startFakeTailscaled(defaultScenario());
    config = join(dir, "config.yaml");
    writeFileSync(config, JSON.stringify({ scraper: "scraper", tailscale: { socket: tailscaled.socket }, ipv6: { allocations: ["2001:db8:100::/56"] }, probes: { timeout: "10s" } }), { mode: 0o640 });
  }, 60_000);
  afterAll(async () => {
    await tailscaled?.stop();
    etc?.remove();
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function firewallPort(): Promise<Finding> {
    const run = await runAgent(["doctor", "--config", config, "--json", "--check", "firewall-port"], { netns: ns.name, timeoutMs: 60_000 });
    try {
      return (JSON.parse(run.stdout) as { checks: Finding[] }).checks[0];
    } catch {
      throw new Error(`doctor did not print JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
    }
  }

  it("ufw enabled as shipped: fails naming the policy that drops the port inbound; passes after ufw allow 41641/udp", async () => {
    etc.prepare("nft", ["ufw", "default"]);
    etc.write("ufw/sysctl.conf", "");
    await inNetns(ns.name, "ufw", ["--force", "enable"]);
    const closed = await firewallPort();
    expect(closed.status).toBe("fail");
    expect(closed.finding).toMatch(/^the firewall \(nftables \(xt rules via iptables-nft-save\)\) drops tailscaled's UDP 41641 in over IPv6 \(ip6 filter INPUT \(iptables-nft\): policy drop\), in over IPv4 \(ip filter INPUT \(iptables-nft\): policy drop\)/);
    await inNetns(ns.name, "ufw", ["allow", "41641/udp"]);
    const open = await firewallPort();
    expect(open).toMatchObject({ status: "ok", finding: expect.stringMatching(/^tailscaled's UDP 41641 passes through nftables \(xt rules via iptables-nft-save\): in over IPv6, in over IPv4, out over IPv6, out over IPv4/) });
    await inNetns(ns.name, "ufw", ["--force", "reset"]);
    await inNetns(ns.name, "nft", ["flush", "ruleset"]);
  }, 60_000);

  it("firewalld in its default zone: fails naming the zone's reject rule; passes after --add-port=41641/udp", async () => {
    etc.prepare("nft", ["firewalld"]);
    const fw = new Firewalld(ns.name);
    try {
      await fw.start();
      const closed = await firewallPort();
      expect(closed.status).toBe("fail");
      expect(closed.finding).toMatch(/^the firewall \(nftables\) drops tailscaled's UDP 41641 in over IPv6 \(inet firewalld filter_IN_public handle \d+: reject with icmpx admin-prohibited\), in over IPv4 \(inet firewalld filter_IN_public handle \d+: reject with icmpx admin-prohibited\)/);
      // The fix is firewalld's own command (once for both families), and it works.
      expect(closed.fix).toBe("sudo firewall-cmd --add-port=41641/udp && sudo firewall-cmd --runtime-to-permanent");
      await fw.cmd(["--add-port=41641/udp"]);
      await fw.cmd(["--runtime-to-permanent"]);
      const open = await firewallPort();
      expect(open).toMatchObject({ status: "ok", finding: expect.stringMatching(/^tailscaled's UDP 41641 passes through nftables: /) });
    } finally {
      fw.remove();
      await inNetns(ns.name, "nft", ["flush", "ruleset"]);
    }
  }, 90_000);
});
