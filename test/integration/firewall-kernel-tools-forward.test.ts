// The evaluator against the kernel on a subnet router's forward path, with the rulesets ufw and
// firewalld make there (the forward checks of a Tailscale subnet router): A sends through the
// router R (in on lan0, out on wan0) to B; the tools run in R as an operator would, R's ruleset
// is read as `firewall check` reads it and each forwarded datagram's fate compared.
import { afterAll, beforeAll, it } from "vitest";
import { describeWith } from "../helpers/prereqs";
import { A4, A6, B4, B6, createLab, kernelVerdicts, type Case, type Lab } from "./firewall-lab";
import { compareLive, EtcOverlay, expectTally, Firewalld, inNetns, made, newTally, resetNetns, withLength, type Backend, type Source } from "./firewall-tools";

const PORTS = [41641, 5000, 53, 161];

/** Forwarded A -> B through the router, both families, every test port. */
function cases(tag: string): Case[] {
  const out: Case[] = [];
  for (const port of PORTS)
    for (const [family, src, dst] of [["ipv6", A6, B6[0]], ["ipv4", A4, B4[0]]] as const)
      for (const saddr of src) out.push(withLength({ id: `${tag}-fw-${saddr}-${port}`, direction: "forward", family, proto: "udp", saddr, daddr: dst, sport: 41641, dport: port, iif: "lan0", oif: "wan0" }));
  return out;
}

describeWith({ root: true, binaries: ["nft", "conntrack", "ufw", "firewalld", "firewall-cmd", "dbus-daemon", "iptables-legacy"] }, "firewall evaluator vs the kernel: a subnet router's forward path under ufw and firewalld", () => {
  let lab: Lab;
  let etc: EtcOverlay;
  let ns: string;
  const tally = newTally();
  beforeAll(async () => {
    lab = await createLab("forward");
    ns = lab.router!.ns.name;
    etc = new EtcOverlay(ns);
  }, 60_000);
  afterAll(() => {
    etc?.remove();
    lab?.close();
  });
  const compareNow = (tag: string, sources: Source[]) => compareLive(ns, tag, sources, cases(tag), (all) => kernelVerdicts(lab, all), tally);

  const UFW_ROUTED: [string, string[][]][] = [
    ["deny-routed", [["default", "deny", "routed"]]],
    ["route-allow-interfaces", [["default", "deny", "routed"], ["route", "allow", "in", "on", "lan0", "out", "on", "wan0", "to", "any", "port", "41641", "proto", "udp"]]],
    ["route-per-source", [["default", "deny", "routed"], ["route", "allow", "from", A6[0], "to", "any", "port", "53", "proto", "udp"], ["route", "allow", "from", A4[1]], ["route", "deny", "in", "on", "lan0", "to", "any", "port", "161", "proto", "udp"]]],
    ["allow-routed", [["default", "allow", "routed"], ["route", "reject", "5000/udp"]]],
  ];
  for (const backend of ["nft", "legacy"] as Backend[]) {
    it(`ufw route rules (${backend})`, async () => {
      for (const [name, commands] of UFW_ROUTED) {
        await resetNetns(ns);
        etc.prepare(backend, ["ufw", "default"]);
        etc.write("ufw/sysctl.conf", ""); // forwarding stays on as the lab set it
        for (const args of commands) await inNetns(ns, "ufw", args);
        await inNetns(ns, "ufw", ["--force", "enable"]);
        await compareNow(`ufw-${backend}-${name}`, made(backend));
      }
    }, 60_000);
  }

  for (const [backend, iptables] of [["nftables", "nft"], ["iptables", "nft"]] as const) {
    it(`firewalld zones on a router (${backend} backend)`, async () => {
      await resetNetns(ns);
      etc.prepare(iptables, ["firewalld"]);
      etc.write("firewalld/firewalld.conf", `FirewallBackend=${backend}\nDefaultZone=public\nIPv6_rpfilter=yes\nIndividualCalls=no\nLogDenied=off\nCleanupOnExit=no\n`);
      const fw = new Firewalld(ns);
      const sources: Source[] = backend === "nftables" ? ["nft"] : made(iptables);
      try {
        await fw.start();
        await compareNow(`firewalld-${backend}-both-public`, sources);
        await fw.cmd(["--zone=internal", "--change-interface=lan0"]);
        await compareNow(`firewalld-${backend}-internal-to-public`, sources);
        await fw.cmd(["--zone=trusted", "--change-interface=lan0"]);
        await compareNow(`firewalld-${backend}-trusted-to-public`, sources);
        await fw.cmd(["--zone=public", "--add-forward"]);
        await fw.cmd(["--zone=public", "--change-interface=lan0"]);
        await compareNow(`firewalld-${backend}-public-forward`, sources);
      } finally {
        fw.remove();
      }
    }, 90_000);
  }

  it("has 0 wrong verdicts and under 5% unknown over all of them", () => expectTally("firewall tool rulesets, forward path", tally));
});
