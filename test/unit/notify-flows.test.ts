// notifyVerdicts decides a whole fleet through an index of the rules that admit udp/162, and
// must say exactly what decideInbound says node by node; and it must stay fast when the
// scraper's filter lists every node (control resolves the node tag to addresses).
import { describe, expect, it } from "vitest";
import type { FilterSource } from "../../agent/policy/filter-source";
import { decideInbound } from "../../agent/policy/filter-verdict";
import { notifyVerdicts, type FleetNode } from "../../agent/policy/notify-flows";
import type { FilterRule } from "../../agent/policy/packet-filter";

const SCRAPER = ["100.64.0.1", "fd7a:115c:a1e0::1"];
const to162 = (ips = SCRAPER) => ips.map((IP) => ({ IP, Ports: { First: 162, Last: 162 } }));
const source = (rules: FilterRule[]): FilterSource => ({ kind: "rules", rules, shieldsUp: false, jailed: [] });

const RULES: FilterRule[] = [
  // Not udp/162: tcp only, and udp to another port.
  { SrcIPs: ["100.101.0.0/24"], DstPorts: to162(), IPProto: [6] },
  { SrcIPs: ["100.101.1.1"], DstPorts: SCRAPER.map((IP) => ({ IP, Ports: { First: 161, Last: 161 } })), IPProto: [17] },
  // Overlapping ranges and CIDRs, IPv4 only.
  { SrcIPs: ["100.101.2.0-100.101.2.9", "100.101.2.5-100.101.2.20", "100.101.3.0/30"], DstPorts: to162(["100.64.0.1"]), IPProto: [17] },
  // Both families, default protocols, a port range, "*" destinations.
  { SrcIPs: ["100.101.4.1", "fd7a:115c:a1e0::4:1"], DstPorts: [{ IP: "*", Ports: { First: 100, Last: 200 } }] },
  // IPv6 only for a node whose IPv4 a later rule admits.
  { SrcIPs: ["fd7a:115c:a1e0::5:1"], DstPorts: to162(), IPProto: [17] },
  { SrcIPs: ["100.101.5.1", "cap:monitoring"], DstPorts: to162(), IPProto: [17] },
  // Only by capability.
  { SrcIPs: ["cap:monitoring"], DstPorts: to162(), IPProto: [17] },
];

const NODES: FleetNode[] = [
  { name: "tcp-only", ips: ["100.101.0.7", "fd7a:115c:a1e0::7"] },
  { name: "wrong-port", ips: ["100.101.1.1"] },
  { name: "range-edge", ips: ["100.101.2.20"] },
  { name: "range-gap", ips: ["100.101.2.21"] },
  { name: "cidr", ips: ["100.101.3.3/32"] },
  { name: "v4-only-rule-but-dual", ips: ["100.101.2.3", "fd7a:115c:a1e0::2:3"] },
  { name: "both", ips: ["100.101.4.1", "fd7a:115c:a1e0::4:1"] },
  { name: "split", ips: ["100.101.5.1", "fd7a:115c:a1e0::5:1"] },
  { name: "cap", ips: ["100.101.6.1"] },
  { name: "none", ips: [] },
  { name: "garbage", ips: ["not-an-ip"] },
];

describe("notifyVerdicts", () => {
  // Without the capability entries a node the addresses do not admit is dropped; with them, unknown.
  const withoutCaps = RULES.map((r) => ({ ...r, SrcIPs: r.SrcIPs!.filter((s) => !s.startsWith("cap:")) }));
  it.each([
    ["with capability rules", RULES, ["unknown", "unknown", "accept", "unknown", "accept", "unknown", "accept", "accept", "unknown", "unknown", "unknown"]],
    ["without them", withoutCaps, ["drop", "drop", "accept", "drop", "accept", "drop", "accept", "accept", "drop", "unknown", "unknown"]],
  ])("says what decideInbound says for each node, in order (%s)", (_name, rules, verdicts) => {
    const got = notifyVerdicts(source(rules), SCRAPER, NODES);
    expect(got.map((v) => v.node)).toEqual(NODES.map((n) => n.name));
    for (const [i, node] of NODES.entries()) expect(got[i], node.name).toEqual({ id: "notify-scraper", node: node.name, ...decideInbound(rules, { proto: 17, port: 162 }, node.ips, SCRAPER) });
    expect(got.map((v) => v.verdict)).toEqual(verdicts);
    expect(got.find((v) => v.node === "split")!.decidedBy).toMatch(/^rule 5: .*; rule 4: /);
  });

  it("decides 10,000 nodes against a filter listing all of them in well under a second per 10,000", () => {
    const nodes: FleetNode[] = Array.from({ length: 10_000 }, (_, i) => ({ name: `n${i}`, ips: [`100.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, `fd7a:115c:a1e0::${i.toString(16)}`] }));
    const rules: FilterRule[] = [{ SrcIPs: nodes.slice(1).flatMap((n) => n.ips), DstPorts: to162(), IPProto: [17] }];
    const started = performance.now();
    const got = notifyVerdicts(source(rules), SCRAPER, nodes);
    const ms = performance.now() - started;
    expect(got.filter((v) => v.verdict === "accept").length).toBe(9_999);
    expect(got[0]).toMatchObject({ node: "n0", verdict: "drop" });
    // Every accept names the rule with one shared text, not a copy per node.
    expect(new Set(got.slice(1).map((v) => v.decidedBy)).size).toBe(1);
    expect(ms).toBeLessThan(3000);
  });
});
