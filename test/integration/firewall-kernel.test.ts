// The evaluator against the kernel on hand-written rulesets: each is loaded into a network
// namespace, read back (nft -j / iptables-legacy-save), evaluated, and the same packets are sent
// as real UDP datagrams. Wherever the evaluator decides, it must give the kernel's verdict.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/prereqs";
import { A4, A6, B4, B6, compare, createLab, type Case, type Lab, type Loader } from "./firewall-lab";

const PAIRS: [number, number][] = [[41641, 41641], [5000, 5000], [41641, 53], [53, 161], [40000, 5000]];

function battery(direction: Case["direction"]): Case[] {
  const out: Case[] = [];
  for (const family of ["ipv6", "ipv4"] as const) {
    const from = family === "ipv6" ? A6 : A4;
    const to = family === "ipv6" ? B6 : B4;
    for (const saddr of from)
      for (const [sport, dport] of PAIRS)
        out.push({
          id: `${direction}-${family}-${saddr}-${sport}-${dport}`, direction, family, proto: "udp", saddr, daddr: to[0], sport, dport,
          ...(direction === "in" ? { iif: "eth0" } : direction === "out" ? { oif: "eth0" } : { iif: "lan0", oif: "wan0" }),
        });
  }
  return out;
}

const IN_OUT = [...battery("in"), ...battery("out")];

async function agree(lab: Lab, loader: Loader, text: string | { ipv4?: string; ipv6?: string }, cases: Case[], allowUnknown = false) {
  const result = await compare(lab, loader, text, cases);
  expect(result.mismatches, `evaluator and kernel disagree on:\n${result.mismatches.join("\n")}`).toEqual([]);
  const undecided = cases.filter((c) => result.model.get(c.id)!.verdict === "unknown").map((c) => `${c.id}: ${result.model.get(c.id)!.reason}`);
  if (!allowUnknown) expect(undecided, "every rule of these rulesets is modelled").toEqual([]);
  return Object.assign((id: string) => result.kernel.get(id), { result });
}

const id = (direction: string, family: string, sport: number, dport: number, saddr?: string) =>
  `${direction}-${family}-${saddr ?? (family === "ipv6" ? A6[0] : A4[0])}-${sport}-${dport}`;

describeWith({ root: true, binaries: ["nft", "conntrack", "iptables-legacy-restore", "ip6tables-legacy-restore"] }, "firewall evaluator vs the kernel: hand-written rulesets", () => {
  let pair: Lab;
  let router: Lab;
  beforeAll(async () => {
    pair = await createLab("pair");
    router = await createLab("forward");
  });
  afterAll(() => {
    pair?.close();
    router?.close();
  });

  it("the central router's forward chain lets tailscaled out only from net6_svc", async () => {
    const verdict = await agree(router, "nft", `
table inet filter {
  set net6_svc { type ipv6_addr; flags interval; elements = { 2001:db8:100::/56 } }
  chain forward {
    type filter hook forward priority 0; policy drop;
    meta l4proto udp th sport 41641 ip6 saddr @net6_svc ct state new accept
  }
}`, battery("forward"));
    expect(verdict(id("forward", "ipv6", 41641, 41641))).toBe("accept");
    expect(verdict(id("forward", "ipv6", 41641, 41641, A6[1]))).toBe("drop");
    expect(verdict(id("forward", "ipv4", 41641, 41641))).toBe("drop");
  });

  it("Debian's default /etc/nftables.conf accepts everything", async () => {
    const verdict = await agree(pair, "nft", `#!/usr/sbin/nft -f
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority filter;
	}
	chain forward {
		type filter hook forward priority filter;
	}
	chain output {
		type filter hook output priority filter;
	}
}`, IN_OUT);
    expect(verdict(id("in", "ipv6", 41641, 41641))).toBe("accept");
    expect(verdict(id("out", "ipv4", 41641, 41641))).toBe("accept");
  });

  for (const withPort of [true, false]) {
    it(`a hardened input chain ${withPort ? "with" : "without"} the port`, async () => {
      const verdict = await agree(pair, "nft", `
table inet filter {
  chain input {
    type filter hook input priority filter; policy drop;
    ct state invalid drop
    ct state { established, related } accept
    iif lo accept
    meta l4proto ipv6-icmp accept
    meta l4proto icmp accept
    tcp dport 22 accept
    ${withPort ? "udp dport 41641 accept" : "udp dport 161 accept"}
  }
  chain output {
    type filter hook output priority filter; policy drop;
    ct state established,related accept
    oif lo accept
    ${withPort ? "udp sport 41641 accept" : ""}
    udp dport 53 accept
  }
}`, IN_OUT);
      expect(verdict(id("in", "ipv6", 41641, 41641))).toBe(withPort ? "accept" : "drop");
      expect(verdict(id("out", "ipv4", 41641, 41641))).toBe(withPort ? "accept" : "drop");
      expect(verdict(id("out", "ipv4", 41641, 53))).toBe("accept");
    });
  }

  it("an accept in an inet table does not outvote an ip6 table that drops", async () => {
    const verdict = await agree(pair, "nft", `
table inet filter {
  chain input { type filter hook input priority 0; policy drop; udp dport { 41641, 5000 } accept; }
}
table ip6 strict {
  chain input { type filter hook input priority 10; policy accept; udp dport 41641 drop; }
}`, IN_OUT);
    expect(verdict(id("in", "ipv6", 41641, 41641))).toBe("drop");
    expect(verdict(id("in", "ipv4", 41641, 41641))).toBe("accept");
    expect(verdict(id("in", "ipv6", 5000, 5000))).toBe("accept");
  });

  it("tailscaled's own ip/ip6 tables next to a firewalld-like inet table: the reject wins", async () => {
    const ts = (family: "ip" | "ip6") => `
table ${family} filter {
  chain INPUT { type filter hook input priority filter; policy accept; counter jump ts-input; }
  chain ts-input {
    iifname "tailscale0" counter accept
    ${family === "ip" ? "ip saddr 100.64.0.0/10 counter drop" : ""}
    udp dport 41641 counter accept
  }
}`;
    const verdict = await agree(pair, "nft", `${ts("ip")}\n${ts("ip6")}
table inet firewalld {
  chain filter_INPUT {
    type filter hook input priority filter + 10; policy accept;
    ct state { established, related } accept
    iifname "lo" accept
    jump filter_INPUT_ZONES
    ct state invalid drop
    reject with icmpx admin-prohibited
  }
  chain filter_INPUT_ZONES { iifname "eth0" goto filter_IN_public; goto filter_IN_public; }
  chain filter_IN_public {
    meta l4proto { icmp, ipv6-icmp } accept
    tcp dport 22 ct state { new, untracked } accept
    udp dport 5000 ct state { new, untracked } accept
  }
}`, battery("in"));
    expect(verdict(id("in", "ipv6", 41641, 41641))).toBe("drop");
    expect(verdict(id("in", "ipv4", 41641, 41641))).toBe("drop");
    expect(verdict(id("in", "ipv4", 5000, 5000))).toBe("accept");
  });

  it("goto does not come back, jump does", async () => {
    const verdict = await agree(pair, "nft", `
table inet t {
  chain input {
    type filter hook input priority 0; policy drop;
    udp dport 41641 jump check
    udp dport 5000 goto check
    udp dport { 41641, 5000 } accept
  }
  chain check { ip6 saddr 2001:db8:200::/48 drop; }
}`, battery("in"));
    expect(verdict(id("in", "ipv6", 41641, 41641))).toBe("accept");
    expect(verdict(id("in", "ipv6", 41641, 41641, A6[1]))).toBe("drop");
    expect(verdict(id("in", "ipv6", 5000, 5000))).toBe("drop");
  });

  it("notrack before conntrack makes packets untracked; after it, it does nothing", async () => {
    const verdict = await agree(pair, "nft", `
table inet raw {
  chain pre { type filter hook prerouting priority raw; udp dport 41641 notrack; }
  chain out { type filter hook output priority raw; udp sport 41641 notrack; }
}
table inet late {
  chain pre { type filter hook prerouting priority -100; udp dport 5000 notrack; }
}
table inet filter {
  chain input { type filter hook input priority 0; policy drop; ct state untracked accept; ct state new udp dport 53 accept; }
  chain output { type filter hook output priority 0; policy drop; ct state untracked accept; udp dport 161 accept; }
}`, IN_OUT);
    expect(verdict(id("in", "ipv6", 41641, 41641))).toBe("accept");
    expect(verdict(id("in", "ipv6", 5000, 5000))).toBe("drop");
    expect(verdict(id("out", "ipv4", 41641, 41641))).toBe("accept");
    expect(verdict(id("out", "ipv4", 5000, 5000))).toBe("drop");
  });

  it("verdict maps, named and anonymous", async () => {
    const verdict = await agree(pair, "nft", `
table inet t {
  map ports { type inet_service : verdict; elements = { 41641 : accept, 5000 : drop, 53 : jump dns } }
  chain input { type filter hook input priority 0; policy drop; udp dport vmap @ports; meta nfproto vmap { ipv4 : accept, ipv6 : continue }; }
  chain dns { ip6 saddr 2001:db8:100::/48 accept; }
}`, battery("in"));
    expect(verdict(id("in", "ipv4", 53, 161))).toBe("accept");
    expect(verdict(id("in", "ipv6", 53, 161))).toBe("drop");
    expect(verdict(id("in", "ipv6", 41641, 53))).toBe("accept");
    expect(verdict(id("in", "ipv6", 41641, 53, A6[1]))).toBe("drop");
  });

  it("concatenated sets with intervals", async () => {
    const verdict = await agree(pair, "nft", `
table inet t {
  set allow6 { type ipv6_addr . inet_service; flags interval; elements = { 2001:db8:100::/48 . 41641, 2001:db8:200::1 . 5000-5010 } }
  set allow4 { type ipv4_addr . inet_service; elements = { 10.0.0.1 . 41641 } }
  chain input {
    type filter hook input priority 0; policy drop;
    ip6 saddr . udp dport @allow6 accept
    ip saddr . udp dport @allow4 accept
    ip6 saddr . udp sport { 2001:db8:200::1 . 53 } accept
  }
}`, battery("in"));
    expect(verdict(id("in", "ipv6", 41641, 41641))).toBe("accept");
    expect(verdict(id("in", "ipv6", 41641, 41641, A6[1]))).toBe("drop");
    expect(verdict(id("in", "ipv6", 5000, 5000, A6[1]))).toBe("accept");
    expect(verdict(id("in", "ipv4", 41641, 41641, A4[1]))).toBe("drop");
  });

  it("ufw-style iptables-legacy chains, IPv4 and IPv6", async () => {
    const ufw = (src: string) => `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
:ufw-before-input - [0:0]
:ufw-user-input - [0:0]
:ufw-after-input - [0:0]
:ufw-reject-input - [0:0]
:ufw-before-output - [0:0]
-A INPUT -j ufw-before-input
-A INPUT -j ufw-after-input
-A INPUT -j ufw-reject-input
-A OUTPUT -j ufw-before-output
-A ufw-before-input -i lo -j ACCEPT
-A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw-before-input -m conntrack --ctstate INVALID -j DROP
-A ufw-before-input -j ufw-user-input
-A ufw-user-input -p udp -m udp --dport 41641 -m comment --comment "'dapp_Tailscale'" -j ACCEPT
-A ufw-user-input -p udp -m multiport --dports 160:162,5000 -s ${src} -j ACCEPT
-A ufw-after-input -p udp -m udp --dport 53 -j LOG --log-prefix "[UFW BLOCK] "
-A ufw-after-input -p udp -m udp --dport 53 -j DROP
-A ufw-reject-input -p udp -m udp ! --dport 41641 -j REJECT
-A ufw-before-output -o lo -j ACCEPT
-A ufw-before-output -p udp -m udp --sport 41641 -j ACCEPT
-A ufw-before-output -p udp -m multiport --dports 53,161 -m state --state NEW -j ACCEPT
-A ufw-before-output -j RETURN
COMMIT
`;
    const verdict = await agree(pair, "iptables-legacy", { ipv4: ufw("10.0.0.0/24"), ipv6: ufw("2001:db8:100::/48") }, IN_OUT);
    expect(verdict(id("in", "ipv6", 41641, 41641))).toBe("accept");
    expect(verdict(id("in", "ipv4", 5000, 5000))).toBe("accept");
    expect(verdict(id("in", "ipv4", 5000, 5000, A4[1]))).toBe("drop");
    expect(verdict(id("out", "ipv6", 5000, 5000))).toBe("drop");
    expect(verdict(id("out", "ipv6", 41641, 53))).toBe("accept");

    // The same rules through iptables-nft, read back as nft JSON: native matches are decided,
    // compat (xt) ones such as multiport are unknown, and nothing decided may differ.
    const viaNft = await agree(pair, "iptables-nft", { ipv4: ufw("10.0.0.0/24"), ipv6: ufw("2001:db8:100::/48") }, IN_OUT, true);
    const unknown = [...viaNft.result.model.values()].filter((d) => d.verdict === "unknown");
    expect(unknown.length).toBeGreaterThan(0);
    for (const d of unknown) expect(d.reason).toMatch(/xt .*iptables-nft-save/);
    expect(viaNft.result.decided).toBeGreaterThan(0);
  });
});
