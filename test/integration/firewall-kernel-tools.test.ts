// The evaluator against the kernel on the rulesets real firewall managers make: ufw, firewalld
// (nftables and iptables backends), shorewall + shorewall6 and ferm, each run in a namespace as
// a Tailscale node's operator would, on the iptables-nft and the legacy backend. The ruleset is
// read back the way `firewall check` reads a host (readLiveRuleset, run inside the namespace),
// every verdict is compared with real datagrams: none may be wrong, under 5% may be unknown.
import { afterAll, beforeAll, it } from "vitest";
import { describeWith } from "../helpers/prereqs";
import { A4, A6, B4, B6, C4, C6, createTrio, trioVerdicts, type Case, type Trio } from "./firewall-lab";
import { compareLive, EtcOverlay, expectTally, Firewalld, inNetns, made, newTally, resetNetns, withLength, type Backend, type Source } from "./firewall-tools";

const PORTS = [41641, 5000, 53, 161];

/** Inbound A -> B on eth0 and outbound B -> C on eth1, both families, every test port. */
function cases(tag: string): Case[] {
  const out: Case[] = [];
  for (const port of PORTS) {
    for (const [family, src, dst] of [["ipv6", A6, B6[0]], ["ipv4", A4, B4[0]]] as const)
      for (const saddr of src) out.push(withLength({ id: `${tag}-in-${saddr}-${port}`, direction: "in", family, proto: "udp", saddr, daddr: dst, sport: 41641, dport: port, iif: "eth0" }));
    for (const [family, src, dst] of [["ipv6", B6[0], C6[0]], ["ipv4", B4[0], C4[0]]] as const)
      out.push(withLength({ id: `${tag}-out-${dst}-${port}`, direction: "out", family, proto: "udp", saddr: src, daddr: dst, sport: 41641 + 1, dport: port, oif: "eth1" }));
  }
  return out;
}

describeWith({ root: true, binaries: ["nft", "conntrack", "ufw", "firewalld", "firewall-cmd", "dbus-daemon", "shorewall", "shorewall6", "ferm", "iptables-legacy"] }, "firewall evaluator vs the kernel: rulesets made by ufw, firewalld, shorewall, ferm", () => {
  let trio: Trio;
  let etc: EtcOverlay;
  let ns: string;
  const tally = newTally();
  beforeAll(async () => {
    trio = await createTrio();
    ns = trio.b.ns.name;
    etc = new EtcOverlay(ns);
  }, 60_000);
  afterAll(() => {
    etc?.remove();
    trio?.close();
  });

  const reset = () => resetNetns(ns);
  const compareNow = (tag: string, sources: Source[]) => compareLive(ns, tag, sources, cases(tag), (all) => trioVerdicts(trio, all), tally);

  const ufw = (args: string[]) => inNetns(ns, "ufw", args);
  const UFW_SCENARIOS: [string, string[][]][] = [
    ["deny-incoming", [["default", "deny", "incoming"]]],
    ["allow-41641", [["default", "deny", "incoming"], ["allow", "41641/udp"]]],
    ["limit", [["default", "deny", "incoming"], ["limit", "5000/udp"], ["allow", "41641/udp"]]],
    ["per-source", [["default", "deny", "incoming"], ["allow", "from", A4[0], "to", "any", "port", "53", "proto", "udp"], ["allow", "from", A6[0], "to", "any", "port", "161", "proto", "udp"], ["deny", "from", A4[1]]]],
    ["deny-out", [["default", "deny", "outgoing"], ["allow", "out", "41641/udp"], ["allow", "out", "to", C6[0], "port", "161", "proto", "udp"], ["deny", "out", "53/udp"]]],
    ["interface-reject", [["default", "allow", "incoming"], ["reject", "5000/udp"], ["deny", "in", "on", "eth0", "to", "any", "port", "53", "proto", "udp"], ["allow", "in", "on", "eth1", "to", "any", "port", "161", "proto", "udp"], ["deny", "in", "on", "eth0", "to", "any", "port", "161", "proto", "udp"]]],
  ];
  for (const backend of ["nft", "legacy"] as Backend[]) {
    it(`ufw (${backend})`, async () => {
      for (const [name, commands] of UFW_SCENARIOS) {
        await reset();
        etc.prepare(backend, ["ufw", "default"]);
        etc.write("ufw/sysctl.conf", ""); // the namespace's sysctls stay as the lab set them
        for (const args of commands) await ufw(args);
        await ufw(["--force", "enable"]);
        await compareNow(`ufw-${backend}-${name}`, made(backend));
      }
    }, 60_000);
  }

  for (const [backend, iptables] of [["nftables", "nft"], ["iptables", "nft"], ["iptables", "legacy"]] as const) {
    it(`firewalld (${backend} backend${backend === "iptables" ? `, ${iptables}` : ""})`, async () => {
      await reset();
      etc.prepare(iptables, ["firewalld"]);
      etc.write("firewalld/firewalld.conf", `FirewallBackend=${backend}\nDefaultZone=public\nIPv6_rpfilter=yes\nIndividualCalls=no\nLogDenied=off\nCleanupOnExit=no\n`);
      const fw = new Firewalld(ns);
      try {
        await fw.start();
        await compareNow(`firewalld-${backend}-${iptables}-public`, backend === "nftables" ? ["nft"] : made(iptables));
        await fw.cmd(["--add-port=41641/udp"]);
        await compareNow(`firewalld-${backend}-${iptables}-add-port`, backend === "nftables" ? ["nft"] : made(iptables));
        await fw.cmd([`--add-rich-rule=rule family="ipv4" source address="${A4[0]}" port port="53" protocol="udp" accept`]);
        await fw.cmd([`--add-rich-rule=rule family="ipv6" source address="${A6[1]}" drop`]);
        await compareNow(`firewalld-${backend}-${iptables}-rich`, backend === "nftables" ? ["nft"] : made(iptables));
        await fw.cmd(["--zone=drop", `--add-source=${A4[1]}`]);
        await fw.cmd(["--zone=drop", `--add-source=${A6[0]}`]);
        await compareNow(`firewalld-${backend}-${iptables}-source-zone`, backend === "nftables" ? ["nft"] : made(iptables));
        for (const zone of ["drop", "block", "trusted"]) {
          await fw.cmd([`--set-default-zone=${zone}`]);
          await compareNow(`firewalld-${backend}-${iptables}-${zone}`, backend === "nftables" ? ["nft"] : made(iptables));
        }
        await fw.cmd(["--zone=work", "--change-interface=eth0"]);
        await compareNow(`firewalld-${backend}-${iptables}-interface-zone`, backend === "nftables" ? ["nft"] : made(iptables));
        await fw.cmd(["--panic-on"]);
        await compareNow(`firewalld-${backend}-${iptables}-panic`, backend === "nftables" ? ["nft"] : made(iptables));
      } finally {
        fw.remove();
      }
    }, 90_000);
  }

  // ferm picks the -legacy tools whenever they are installed (as they are with Debian's
  // iptables package), whatever the alternatives say: legacy is the backend its users get.
  it("ferm, Debian's ferm.conf (legacy, as ferm chooses)", async () => {
    await reset();
    etc.prepare("legacy", ["ferm"]);
    await inNetns(ns, "ferm", ["/etc/ferm/ferm.conf"]);
    await compareNow("ferm-legacy-stock", made("legacy"));
    etc.write("ferm/ferm.d/tailscale.conf", "domain (ip ip6) table filter chain INPUT proto udp dport 41641 ACCEPT;\n");
    await inNetns(ns, "ferm", ["/etc/ferm/ferm.conf"]);
    await compareNow("ferm-legacy-tailscale", made("legacy"));
  }, 60_000);


  for (const backend of ["nft", "legacy"] as Backend[]) {
    it(`shorewall + shorewall6, Debian's one-interface example (${backend})`, async () => {
      await reset();
      etc.prepare(backend, ["shorewall", "shorewall6"]);
      etc.copyFrom("/usr/share/doc/shorewall/examples/one-interface", "shorewall");
      etc.copyFrom("/usr/share/doc/shorewall6/examples/one-interface", "shorewall6");
      // The examples ship disabled until the operator has read them; the script they generate
      // needs bash where /bin/sh is dash (Debian's shorewall 5.2.8).
      for (const conf of ["shorewall/shorewall.conf", "shorewall6/shorewall6.conf"])
        etc.edit(conf, (t) => t.replace(/^STARTUP_ENABLED=No$/m, "STARTUP_ENABLED=Yes").replace(/^SHOREWALL_SHELL=\/bin\/sh$/m, "SHOREWALL_SHELL=/bin/bash"));
      await inNetns(ns, "shorewall", ["start"]);
      await inNetns(ns, "shorewall6", ["start"]);
      await compareNow(`shorewall-${backend}-example`, made(backend));
    }, 90_000);
  }

  // The routing answers the reverse-path matches depend on, where lookups can differ: A's
  // first addresses come back through eth1 by a host route while a shorter prefix through eth0,
  // where they arrive, covers them; A's second ones have two host routes, the better one
  // (lower metric) through eth1 and the other through eth0.
  const ASYMMETRIC = [
    `route del ${A6[0]}/128`, `route add ${A6[0]}/128 dev eth1`, "route add 2001:db8:100::/64 dev eth0",
    `route del ${A4[0]}/32`, `route add ${A4[0]}/32 dev eth1`, "route add 10.0.0.0/24 dev eth0",
    `route del ${A6[1]}/128`, `route add ${A6[1]}/128 dev eth1 metric 100`, `route add ${A6[1]}/128 dev eth0 metric 200`,
    `route del ${A4[1]}/32`, `route add ${A4[1]}/32 dev eth1 metric 100`, `route add ${A4[1]}/32 dev eth0 metric 200`,
  ];
  const SYMMETRIC = [
    `route del ${A6[0]}/128`, `route replace ${A6[0]}/128 dev eth0`, "route del 2001:db8:100::/64",
    `route del ${A4[0]}/32`, `route replace ${A4[0]}/32 dev eth0`, "route del 10.0.0.0/24",
    `route del ${A6[1]}/128 dev eth1`, `route del ${A6[1]}/128`, `route add ${A6[1]}/128 dev eth0`,
    `route del ${A4[1]}/32 dev eth1`, `route del ${A4[1]}/32`, `route add ${A4[1]}/32 dev eth0`,
  ];
  const HAND_WRITTEN: [string, string | { ipv4: string; ipv6: string }][] = [
    ["fib saddr . iif", "table inet t {\n chain pre {\n  type filter hook prerouting priority -300;\n  fib saddr . iif oif missing drop\n }\n}"],
    ["fib saddr . mark . iif (firewalld)", "table inet t {\n chain pre {\n  type filter hook prerouting priority -290;\n  meta nfproto ipv6 fib saddr . mark . iif oif missing drop\n  fib saddr . mark . iif oif missing drop\n }\n}"],
    ["fib saddr oif", "table inet t {\n chain pre {\n  type filter hook prerouting priority -300;\n  fib saddr oif missing drop\n  fib saddr oifname != \"eth0\" drop\n }\n}"],
    ["fib daddr type", "table inet t {\n chain in {\n  type filter hook input priority 0;\n  fib daddr type != local drop\n  fib saddr type local drop\n  fib saddr type != unicast drop\n }\n}"],
    ["exthdr and ct status", "table inet t {\n chain in {\n  type filter hook input priority 0; policy drop;\n  rt type 0 drop\n  exthdr frag exists drop\n  ct status dnat drop\n  exthdr rt missing udp dport { 41641, 53 } accept\n  ct status != dnat udp dport 5000 accept\n }\n}"],
    // Thresholds cut through the payload sizes of this test's datagrams (their ids: 30 to 45
    // bytes here), so each rule matches some of them and not others.
    ["lengths", "table inet t {\n chain in {\n  type filter hook input priority 0;\n  udp length < 42 udp dport 53 drop\n  meta length 86-89 udp dport != 53 drop\n  ip length 59-61 drop\n  ip6 length 46-49 drop\n }\n chain out {\n  type filter hook output priority 0;\n  meta length 60-87 drop\n }\n}"],
    ["-m length", { ipv4: "*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m length --length 61:64 -j DROP\n-A OUTPUT -m length ! --length 0:63 -j DROP\nCOMMIT\n", ipv6: "*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m length --length 88:91 -j DROP\nCOMMIT\n" }],
    ["-m rpfilter", { ipv4: "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -m rpfilter --invert -j DROP\nCOMMIT\n", ipv6: "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -m rpfilter --invert -j DROP\nCOMMIT\n" }],
    ["-m rpfilter --loose", { ipv4: "*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m rpfilter --loose --validmark --invert -j DROP\nCOMMIT\n", ipv6: "*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m rpfilter --loose --invert -j DROP\nCOMMIT\n" }],
    ["-m addrtype", { ipv4: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m addrtype ! --dst-type LOCAL -j DROP\n-A INPUT -m addrtype --src-type LOCAL,BROADCAST -j DROP\n-A INPUT -m addrtype --src-type UNICAST -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n", ipv6: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m addrtype ! --dst-type LOCAL -j DROP\n-A INPUT -m addrtype --src-type LOCAL -j DROP\n-A INPUT -m addrtype --dst-type UNICAST -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n" }],
  ];
  for (const backend of ["nft", "legacy"] as Backend[]) {
    it(`matches on the host and the packet: reverse paths with asymmetric routes, route types, headers, lengths (${backend} for iptables rulesets)`, async () => {
      await inNetns(ns, "ip", ["-batch", "-"], {}, `${ASYMMETRIC.join("\n")}\n`);
      try {
        for (const [name, text] of HAND_WRITTEN) {
          await reset();
          if (typeof text === "string") await inNetns(ns, "nft", ["-f", "-"], {}, text);
          else {
            const tool = backend === "nft" ? "nft" : "legacy";
            await inNetns(ns, `iptables-${tool}-restore`, [], {}, text.ipv4);
            await inNetns(ns, `ip6tables-${tool}-restore`, [], {}, text.ipv6);
          }
          await compareNow(`rpf-${backend}-${name}`, typeof text === "string" ? ["nft"] : made(backend));
        }
      } finally {
        // -force: a batch goes on past a line that fails (a route already gone).
        await inNetns(ns, "ip", ["-force", "-batch", "-"], {}, `${SYMMETRIC.join("\n")}\n`).catch(() => "");
      }
    }, 60_000);
  }

  it("has 0 wrong verdicts and under 5% unknown over all of them", () => expectTally("firewall tool rulesets", tally));
});
