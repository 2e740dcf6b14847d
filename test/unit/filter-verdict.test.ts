// The live evaluator of tailscaled's packet filter (address forms as tailscaled parses them,
// protocols, ports, families), the node's two flows (shields-up, no netmap, permission), and the
// receiver's direction: may each fleet node reach udp/162 on the scraper.
import { describe, expect, it } from "vitest";
import { decideInbound } from "../../agent/policy/filter-verdict";
import { nodeFlowVerdicts } from "../../agent/policy/node-flows";
import { notifyVerdicts } from "../../agent/policy/notify-flows";
import { compileFilter, parseAddress, parseIpSet, type FilterRule } from "../../agent/policy/packet-filter";

const SCRAPER = ["100.64.0.1", "fd7a:115c:a1e0::1"];
const NODE = ["100.101.102.103", "fd7a:115c:a1e0::1234:5678"];
const TCP9100 = { proto: 6, port: 9100 };
const dsts = (ips: string[], first: number, last = first) => ips.map((IP) => ({ IP, Ports: { First: first, Last: last } }));

describe("address forms, as tailscaled parses them", () => {
  it("*, addresses, CIDRs, ranges, capabilities", () => {
    expect(parseIpSet("*")).toMatchObject({ kind: "addresses", ranges: [{ family: "ipv4", first: 0n }, { family: "ipv6", first: 0n }] });
    expect(parseIpSet("100.64.0.0/10")).toEqual({ kind: "addresses", ranges: [{ family: "ipv4", first: 0x64400000n, last: 0x647fffffn }] });
    expect(parseIpSet("fd7a:115c:a1e0::1-fd7a:115c:a1e0::800")).toMatchObject({ kind: "addresses", ranges: [{ family: "ipv6" }] });
    expect(parseIpSet("cap:example.com/cap/x")).toEqual({ kind: "cap", cap: "example.com/cap/x" });
  });

  it("addresses as Go's netip reads them", () => {
    expect(parseAddress("100.64.0.1")).toEqual({ family: "ipv4", n: 0x64400001n });
    expect(parseAddress("::")).toEqual({ family: "ipv6", n: 0n });
    expect(parseAddress("fd7a:115c:a1e0::1234:5678").n).toBe(0xfd7a115ca1e0000000000000_12345678n);
    expect(parseAddress("::ffff:192.0.2.1").n).toBe(0xffffc0000201n);
    expect(parseAddress("1:2:3:4:5:6:7::").n).toBe(0x0001000200030004000500060007_0000n);
    for (const bad of ["1::2::3", "12345::", ":1", "1:2:3:4:5:6:7:8:9", "::1:2:3:4:5:6:7:8", "1.2.3", "1.2.3.256", "01.2.3.4", "fe80::1%eth0", ""]) expect(() => parseAddress(bad), bad).toThrow();
  });

  it.each(["100.64.0.1/10", "100.64.0.9-100.64.0.1", "100.64.0.1-fd7a::1", "010.0.0.1", "tag:monitor", "fe80::1%eth0", "100.64.0.0/33"])("%s is refused", (text) => {
    expect(() => parseIpSet(text)).toThrow();
  });

  it("a bad entry is skipped and the rule kept; IPProto out of range is dropped, an empty list is the default", () => {
    const c = compileFilter([{ SrcIPs: ["bogus", "100.64.0.1"], DstPorts: dsts(["100.101.102.103"], 1), IPProto: [6, 300] }, { SrcIPs: ["*"], DstPorts: dsts(["*"], 1), IPProto: [] }]);
    expect(c.skipped).toBe('rule 0: invalid IP address "bogus"');
    expect(c.rules[0].srcs).toHaveLength(1);
    expect(c.rules[0].protos).toEqual([6]);
    expect(c.rules[1].protos).toEqual([6, 17, 1, 58]);
  });
});

describe("decideInbound", () => {
  const seed: FilterRule[] = [{ SrcIPs: SCRAPER, DstPorts: dsts(NODE, 9100), IPProto: [6] }];

  it("accepts with the rule's index and text; a port range and a * destination count", () => {
    expect(decideInbound(seed, TCP9100, SCRAPER, NODE)).toEqual({ verdict: "accept", decidedBy: `rule 0: ${JSON.stringify(seed[0])}` });
    expect(decideInbound([{ SrcIPs: ["*"], DstPorts: dsts(["*"], 9000, 9200) }], TCP9100, SCRAPER, NODE).verdict).toBe("accept");
  });

  it("the lowest-numbered matching rule is named", () => {
    const rules: FilterRule[] = [{ SrcIPs: ["192.0.2.1"], DstPorts: dsts(["*"], 0, 65535) }, ...seed, { SrcIPs: ["*"], DstPorts: dsts(["*"], 0, 65535) }];
    expect(decideInbound(rules, TCP9100, SCRAPER, NODE).decidedBy).toMatch(/^rule 1: /);
  });

  it("another destination, protocol or port drops", () => {
    expect(decideInbound([{ SrcIPs: SCRAPER, DstPorts: dsts(["100.101.102.104", "fd7a:115c:a1e0::9"], 9100), IPProto: [6] }], TCP9100, SCRAPER, NODE).verdict).toBe("drop");
    expect(decideInbound([{ SrcIPs: SCRAPER, DstPorts: dsts(NODE, 9100), IPProto: [17] }], TCP9100, SCRAPER, NODE)).toMatchObject({ verdict: "drop", reason: "rule 0 admits 100.64.0.1 to 100.101.102.103 only for udp on ports 9100" });
    expect(decideInbound([{ SrcIPs: SCRAPER, DstPorts: dsts(NODE, 9101, 9200), IPProto: [6] }], TCP9100, SCRAPER, NODE).reason).toContain("ports 9101-9200");
    expect(decideInbound([{ SrcIPs: SCRAPER, DstPorts: dsts(NODE, 9100), IPProto: [132] }], TCP9100, SCRAPER, NODE).verdict).toBe("drop");
  });

  it("every family both sides have must pass; one family alone is judged alone", () => {
    const v4only: FilterRule[] = [{ SrcIPs: ["100.64.0.1"], DstPorts: dsts(NODE, 9100), IPProto: [6] }];
    expect(decideInbound(v4only, TCP9100, SCRAPER, NODE)).toMatchObject({ verdict: "drop", reason: "ipv4 is admitted (rule 0), ipv6 is not" });
    expect(decideInbound(v4only, TCP9100, ["100.64.0.1"], NODE).verdict).toBe("accept");
    expect(decideInbound(v4only, TCP9100, ["fd7a:115c:a1e0::1"], ["100.101.102.103"])).toMatchObject({ verdict: "unknown", decidedBy: "no-shared-family" });
  });

  it("SrcBits or Bits: the filter is refused, unknown", () => {
    expect(decideInbound([{ ...seed[0], SrcBits: [32] }], TCP9100, SCRAPER, NODE)).toMatchObject({ verdict: "unknown", decidedBy: "filter-refused" });
    expect(decideInbound([{ SrcIPs: ["*"], DstPorts: [{ IP: "*", Bits: 0, Ports: { First: 0, Last: 65535 } }] }], TCP9100, SCRAPER, NODE).decidedBy).toBe("filter-refused");
  });
});

describe("the node's flows", () => {
  const rules: FilterRule[] = [{ SrcIPs: SCRAPER, DstPorts: dsts(NODE, 161), IPProto: [17] }];

  it("rules decide each flow", () => {
    expect(nodeFlowVerdicts({ kind: "rules", rules, shieldsUp: false, jailed: [] }, NODE, SCRAPER).map((f) => [f.id, f.verdict])).toEqual([["scrape-node-exporter", "drop"], ["poll-snmpd", "accept"]]);
  });

  it("shields-up, no netmap and a missing permission each carry their own decidedBy", () => {
    expect(nodeFlowVerdicts({ kind: "rules", rules, shieldsUp: true, jailed: [] }, NODE, SCRAPER).map((f) => [f.verdict, f.decidedBy])).toEqual([["drop", "shields-up"], ["drop", "shields-up"]]);
    expect(nodeFlowVerdicts({ kind: "no-netmap" }, NODE, SCRAPER)[0]).toMatchObject({ verdict: "unknown", decidedBy: "no-netmap" });
    expect(nodeFlowVerdicts({ kind: "permission", user: "edge-agent" }, NODE, SCRAPER)[1]).toMatchObject({ verdict: "unknown", decidedBy: "localapi-permission", reason: expect.stringContaining("sudo tailscale set --operator=edge-agent") });
  });
});

describe("the receiver's direction: udp/162 to the scraper", () => {
  // The seed's rules as control compiles them for the scraper: the notify rule from the tagged nodes.
  const scraperRules: FilterRule[] = [
    { SrcIPs: ["100.101.102.103", "fd7a:115c:a1e0::1234:5678", "100.101.102.104", "fd7a:115c:a1e0::1234:5679"], DstPorts: dsts(SCRAPER, 162), IPProto: [17] },
  ];
  const fleet = [
    { name: "node1", ips: ["100.101.102.103", "fd7a:115c:a1e0::1234:5678"] },
    { name: "node2", ips: ["100.101.102.104", "fd7a:115c:a1e0::1234:5679"] },
    { name: "laptop", ips: ["100.90.1.2", "fd7a:115c:a1e0::9"] },
  ];

  const source = (rules: FilterRule[], more: { shieldsUp?: boolean; jailed?: string[] } = {}) => ({ kind: "rules" as const, rules, shieldsUp: more.shieldsUp ?? false, jailed: more.jailed ?? [] });

  it("each tagged node may notify; an untagged one may not", () => {
    expect(notifyVerdicts(source(scraperRules), SCRAPER, fleet).map((v) => [v.node, v.verdict])).toEqual([["node1", "accept"], ["node2", "accept"], ["laptop", "drop"]]);
    expect(notifyVerdicts(source(scraperRules), SCRAPER, fleet)[0]).toMatchObject({ id: "notify-scraper", decidedBy: expect.stringMatching(/^rule 0: \{"SrcIPs"/) });
  });

  it("wrong proto or port drops every node; shields-up on the scraper and a jailed node drop with their own reasons", () => {
    expect(notifyVerdicts(source([{ ...scraperRules[0], IPProto: [6] }]), SCRAPER, fleet).every((v) => v.verdict === "drop")).toBe(true);
    expect(notifyVerdicts(source([{ ...scraperRules[0], DstPorts: dsts(SCRAPER, 161) }]), SCRAPER, fleet)[0].reason).toBe("rule 0 admits 100.101.102.103 to 100.64.0.1 only for udp on ports 161");
    expect(notifyVerdicts(source(scraperRules, { shieldsUp: true }), SCRAPER, fleet).map((v) => v.decidedBy)).toEqual(["shields-up", "shields-up", "shields-up"]);
    expect(notifyVerdicts(source(scraperRules, { jailed: ["100.101.102.104"] }), SCRAPER, fleet).map((v) => v.decidedBy.split(":")[0])).toEqual(["rule 0", "peer-jailed", "default deny"]);
  });

  it("without the scraper's filter every node is unknown, with why", () => {
    expect(notifyVerdicts({ kind: "no-netmap" }, SCRAPER, fleet).map((v) => v.verdict)).toEqual(["unknown", "unknown", "unknown"]);
    expect(notifyVerdicts({ kind: "permission", user: "edge-agent" }, SCRAPER, fleet)[0]).toMatchObject({ decidedBy: "localapi-permission", reason: expect.stringContaining("tailscaled on the scraper gives its packet filter only to root or its operator") });
  });
});
