// The matches a packet alone does not decide: route types and reverse paths from the host's
// addresses and routes, IPv6 extension headers, ct status, rate-based matches; as iptables-save
// text and as nft JSON, with and without a host view (a saved ruleset has none).
import { describe, expect, it } from "vitest";
import { evaluate } from "../../agent/firewall/evaluate";
import { addressType, reverseRouteDevice, type HostView } from "../../agent/firewall/host-view";
import { parseIptablesSave } from "../../agent/firewall/iptables-save";
import { parseNftJson } from "../../agent/firewall/nft-json";
import { addressValue, makePacket, type PacketSpec } from "../../agent/firewall/packet";
import type { Route } from "../../agent/probes/routes";

function route(family: "ipv4" | "ipv6", prefix: string, device: string, metric = 0): Route {
  const [addr, len] = prefix.split("/");
  const value = addressValue(addr, family)!;
  const bytes = family === "ipv4" ? 4 : 16;
  const destination = Array.from({ length: bytes }, (_, i) => Number((value >> BigInt(8 * (bytes - 1 - i))) & 0xffn));
  return { family, destination, length: Number(len), device, metric };
}

/** eth0 faces the internet (default routes); 10.50.0.0/24 and 2001:db8:50::/64 are behind eth1. */
const HOST: HostView = {
  addresses: [
    { family: "ipv4", value: addressValue("192.0.2.10", "ipv4")!, prefixLength: 24 },
    { family: "ipv6", value: addressValue("2001:db8:1::10", "ipv6")!, prefixLength: 64 },
  ],
  routes: [
    route("ipv4", "0.0.0.0/0", "eth0"), route("ipv4", "192.0.2.0/24", "eth0"), route("ipv4", "10.50.0.0/24", "eth1"),
    route("ipv6", "::/0", "eth0", 1024), route("ipv6", "2001:db8:50::/64", "eth1", 100), route("ipv6", "2001:db8:50::/64", "eth0", 200),
  ],
};

const inbound = (over: Partial<PacketSpec> = {}) => makePacket({ direction: "in", family: "ipv4", proto: "udp", saddr: "8.8.8.8", daddr: "192.0.2.10", sport: 41641, dport: 41641, iif: "eth0", ...over });
const inbound6 = (over: Partial<PacketSpec> = {}) => inbound({ family: "ipv6", saddr: "2001:4860:4860::8888", daddr: "2001:db8:1::10", ...over });

const save = (family: "ipv4" | "ipv6", table: string, chain: string, rules: string[]) =>
  parseIptablesSave(`*${table}\n:${chain} ACCEPT [0:0]\n${rules.map((r) => `-A ${chain} ${r}`).join("\n")}\nCOMMIT\n`, "iptables", family);

describe("route types (addressType)", () => {
  it("reads an inbound packet's destination as local and multicast/broadcast from the address alone", () => {
    expect(addressType(inbound(), "daddr", undefined)).toEqual({ value: "local" });
    expect(addressType(inbound({ daddr: "224.0.0.251" }), "daddr", undefined)).toEqual({ value: "multicast" });
    expect(addressType(inbound({ daddr: "255.255.255.255" }), "daddr", undefined)).toEqual({ value: "broadcast" });
    expect(addressType(inbound(), "saddr", undefined)).toMatchObject({ undecidable: expect.stringContaining("needs this host's addresses and routes") });
  });
  it("uses the host's addresses and routes for the rest", () => {
    expect(addressType(inbound(), "saddr", HOST)).toEqual({ value: "unicast" });
    expect(addressType(inbound({ saddr: "192.0.2.255" }), "saddr", HOST)).toEqual({ value: "broadcast" });
    expect(addressType(inbound({ saddr: "192.0.2.0" }), "saddr", HOST)).toMatchObject({ undecidable: expect.stringContaining("network address") });
    expect(addressType(inbound({ direction: "forward", daddr: "192.0.2.10" }), "daddr", HOST)).toEqual({ value: "local" });
  });
});

describe("reverse paths (reverseRouteDevice)", () => {
  it("IPv4 checks the best route's device, without falling back to a worse one through the input interface", () => {
    expect(reverseRouteDevice(inbound(), "fib-iif", HOST)).toEqual({ value: "eth0" });
    expect(reverseRouteDevice(inbound({ saddr: "10.50.0.7" }), "fib-iif", HOST)).toEqual({ value: "" });
    expect(reverseRouteDevice(inbound({ saddr: "10.50.0.7" }), "best", HOST)).toEqual({ value: "eth1" });
  });
  it("IPv6: nft's fib prefers the input interface among the lowest-metric routes, xt_rpfilter among all of the prefix", () => {
    expect(reverseRouteDevice(inbound6({ saddr: "2001:db8:50::7" }), "fib-iif", HOST)).toEqual({ value: "" });
    expect(reverseRouteDevice(inbound6({ saddr: "2001:db8:50::7" }), "rpfilter-strict", HOST)).toEqual({ value: "eth0" });
    expect(reverseRouteDevice(inbound6({ saddr: "2001:db8:50::7", iif: "eth1" }), "fib-iif", HOST)).toEqual({ value: "eth1" });
  });
  it("is unknown without the host's routes, the input interface, or for a source of the host itself", () => {
    expect(reverseRouteDevice(inbound(), "fib-iif", undefined)).toMatchObject({ undecidable: expect.any(String) });
    expect(reverseRouteDevice(inbound({ iif: undefined }), "fib-iif", HOST)).toMatchObject({ undecidable: expect.stringContaining("--iif") });
    expect(reverseRouteDevice(inbound({ saddr: "192.0.2.10" }), "fib-iif", HOST)).toMatchObject({ undecidable: expect.stringContaining("address of this host") });
  });
});

describe("iptables matches that need the host or the packet's headers", () => {
  it("-m rt never matches a datagram without a routing header, negated or not", () => {
    const r = save("ipv6", "filter", "INPUT", ["-m rt --rt-type 0 -j DROP", "-m rt ! --rt-type 0 --rt-segsleft 0 -j DROP", "-j REJECT"]);
    const d = evaluate(r, inbound6());
    expect(d).toMatchObject({ verdict: "drop", decidedBy: expect.stringMatching(/rule 3: -A INPUT -j REJECT$/) });
  });
  it("-m rpfilter --invert drops what comes in by the wrong interface, with the host's routes only", () => {
    const r = save("ipv4", "raw", "PREROUTING", ["-m rpfilter --invert -j DROP"]);
    expect(evaluate(r, inbound(), HOST).verdict).toBe("accept");
    expect(evaluate(r, inbound({ saddr: "10.50.0.7" }), HOST).verdict).toBe("drop");
    expect(evaluate(r, inbound()).verdict).toBe("unknown");
    const loose = save("ipv4", "raw", "PREROUTING", ["-m rpfilter --loose --invert -j DROP"]);
    expect(evaluate(loose, inbound({ saddr: "10.50.0.7" }), HOST).verdict).toBe("accept");
  });
  it("-m addrtype: IPv4 one type per address, IPv6 by class (a local address is UNICAST too)", () => {
    const v4 = save("ipv4", "filter", "INPUT", ["-m addrtype --dst-type UNICAST -j DROP", "-m addrtype --dst-type LOCAL -j ACCEPT", "-j DROP"]);
    expect(evaluate(v4, inbound()).verdict).toBe("accept");
    const v6 = save("ipv6", "filter", "INPUT", ["-m addrtype --dst-type UNICAST -j DROP"]);
    expect(evaluate(v6, inbound6()).verdict).toBe("drop");
    const several = save("ipv6", "filter", "INPUT", ["-m addrtype --dst-type LOCAL,UNICAST -j DROP"]);
    expect(evaluate(several, inbound6()).verdict).toBe("unknown");
  });
  it("--ctstate DNAT, -m recent with a hit count, -m hashlimit, -j CT --helper", () => {
    const r = save("ipv4", "filter", "INPUT", [
      "-m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
      "-p udp -m recent --set --name x --mask 255.255.255.255 --rsource",
      "-p udp -m recent --update --seconds 30 --hitcount 6 --name x --rsource -j DROP",
      "-m hashlimit --hashlimit-above 1/sec --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name h -j DROP",
      "-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name h -j ACCEPT",
    ]);
    expect(evaluate(r, inbound())).toMatchObject({ verdict: "accept", decidedBy: expect.stringMatching(/rule 5: .*--hashlimit-upto/) });
    expect(evaluate(r, inbound({ ctState: "established" })).verdict).toBe("drop");
    expect(evaluate(r, inbound({ ctState: "related" })).verdict).toBe("drop");
    const helper = save("ipv4", "raw", "PREROUTING", ["-p udp -m udp --dport 41641 -j CT --helper snmp", "-p udp -j DROP"]);
    expect(evaluate(helper, inbound()).verdict).toBe("drop");
    const rcheck = save("ipv4", "filter", "INPUT", ["-m recent --rcheck --name x -j DROP"]);
    expect(evaluate(rcheck, inbound())).toMatchObject({ verdict: "unknown", reason: expect.stringContaining("-m recent --rcheck depends on the packets seen before") });
  });
});

describe("nft matches that need the host or the packet's headers", () => {
  const doc = (...exprs: unknown[][]) => JSON.stringify({
    nftables: [
      { table: { family: "inet", name: "t", handle: 1 } },
      { chain: { family: "inet", table: "t", name: "c", handle: 1, type: "filter", hook: "prerouting", prio: -150, policy: "accept" } },
      ...exprs.map((expr, i) => ({ rule: { family: "inet", table: "t", chain: "c", handle: 10 + i, expr } })),
    ],
  });
  const DROP = { drop: null };
  it("fib saddr . mark . iif oif missing (firewalld) decides with the host's routes", () => {
    const r = parseNftJson(doc([{ match: { op: "==", left: { fib: { result: "oif", flags: ["saddr", "mark", "iif"] } }, right: false } }, DROP]));
    expect(evaluate(r, inbound6(), HOST).verdict).toBe("accept");
    expect(evaluate(r, inbound6({ iif: "eth1" }), HOST)).toMatchObject({ verdict: "drop", decidedBy: "inet t c handle 10: fib saddr . mark . iif oif missing drop" });
  });
  it("rt/exthdr never match, exthdr missing holds for IPv6 only, ct status is empty on a first packet", () => {
    const r = parseNftJson(doc(
      [{ match: { op: "==", left: { exthdr: { name: "rt", field: "type" } }, right: 0 } }, DROP],
      [{ match: { op: "==", left: { exthdr: { name: "frag" } }, right: true } }, DROP],
      [{ match: { op: "in", left: { ct: { key: "status" } }, right: "dnat" } }, DROP],
      [{ match: { op: "==", left: { exthdr: { name: "rt" } }, right: false } }, DROP],
    ));
    expect(evaluate(r, inbound()).verdict).toBe("accept");
    expect(evaluate(r, inbound6())).toMatchObject({ verdict: "drop", decidedBy: "inet t c handle 13: exthdr rt missing drop" });
    expect(evaluate(r, inbound({ ctState: "established" })).verdict).toBe("unknown");
  });
  it("fib daddr type: local for an inbound packet's destination, without a host view too", () => {
    const r = parseNftJson(doc([{ match: { op: "!=", left: { fib: { result: "type", flags: ["daddr"] } }, right: "local" } }, DROP]));
    expect(evaluate(r, inbound()).verdict).toBe("accept");
    expect(evaluate(r, inbound({ direction: "forward", daddr: "8.8.4.4", oif: "eth0" }), HOST).verdict).toBe("drop");
  });
});
