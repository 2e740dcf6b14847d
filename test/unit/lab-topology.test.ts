// The lab's shape (scripts/netns-lab/topology.ts): what the issue asks of it, and the exposition
// parser the e2e test reads the receiver's /metrics with.
import { describe, expect, it } from "vitest";
import { parseExposition, sampleValue } from "../helpers/lab";
import { ALLOCATION, NODES, ROUTER_PREFIX, agentNodes, coreRuleset, hostsFile, routerRuleset, scraperNodes } from "../../scripts/netns-lab/topology";
import { isInPrefix } from "../helpers/lab-prefix";

describe("the lab's topology", () => {
  it("has two scrapers (the second for the pair lab) and three agent nodes: one plain, one router for a /56, one IPv4-only behind CGNAT", () => {
    expect(NODES.filter((n) => n.role === "scraper").map((n) => n.name)).toEqual(["scraper", "scraper2"]);
    expect(scraperNodes(false).map((n) => n.name)).toEqual(["scraper"]);
    expect(scraperNodes(true).map((n) => n.name)).toEqual(["scraper", "scraper2"]);
    const nodes = agentNodes();
    expect(nodes).toHaveLength(3);
    expect(nodes.filter((n) => n.forwards.includes(ROUTER_PREFIX))).toHaveLength(1);
    expect(ROUTER_PREFIX.endsWith("/56")).toBe(true);
    const cgnat = nodes.filter((n) => !n.uplink.v6);
    expect(cgnat).toHaveLength(1);
    expect(isInPrefix(cgnat[0].uplink.v4!.split("/")[0], "100.64.0.0/10")).toBe(true);
  });

  it("gives every node with a global /64 one inside the operator's allocation, in 2001:db8::/32", () => {
    for (const n of NODES.filter((x) => x.uplink.v6 && x.role !== "scraper")) {
      expect(isInPrefix(n.uplink.v6!.split("/")[0], ALLOCATION), n.name).toBe(true);
    }
    for (const n of NODES) if (n.uplink.v6) expect(isInPrefix(n.uplink.v6.split("/")[0], "2001:db8::/32"), n.name).toBe(true);
    const svc2 = NODES.find((n) => n.parent === "router")!;
    expect(isInPrefix(svc2.uplink.v6!.split("/")[0], ROUTER_PREFIX)).toBe(true);
  });

  it("gives the tailnet members distinct Tailscale IPs and MagicDNS names in /etc/hosts", () => {
    const members = NODES.filter((n) => n.tailnet);
    expect(new Set(members.map((n) => n.tailnet!.v4)).size).toBe(members.length);
    const hosts = hostsFile();
    for (const n of members) {
      expect(hosts).toContain(`${n.tailnet!.v4} ${n.name}.example-tailnet.ts.net ${n.name}\n`);
      expect(hosts).toContain(`${n.tailnet!.v6} ${n.name}.example-tailnet.ts.net ${n.name}\n`);
    }
  });

  it("uses DESIGN.md's forward rule for the router and masquerades only the CGNAT range", () => {
    expect(routerRuleset()).toContain("meta l4proto udp th sport 41641 ip6 saddr @net6_svc ct state new accept");
    expect(routerRuleset()).toContain(`elements = { ${ROUTER_PREFIX} }`);
    expect(routerRuleset()).toContain("policy drop;");
    expect(coreRuleset("100.127.64.0/24")).toContain("ip saddr 100.127.64.0/24 ip daddr != 100.127.64.0/24 ip daddr != 100.64.0.0/24 masquerade");
  });
});

describe("parseExposition", () => {
  it("reads names, labels (with escapes) and values", () => {
    const samples = parseExposition(
      [
        "# HELP edge_fleet_node_info Always 1.",
        "# TYPE edge_fleet_node_info gauge",
        'edge_fleet_node_info{node="svc1",prefix="2001:db8:100:1::/64",tags="tag:monitor"} 1',
        'edge_fleet_node_info{node="x",prefix="",tags="a \\"quoted\\" one"} 1',
        "edge_fleet_nodes 3",
        "",
      ].join("\n"),
    );
    expect(samples).toHaveLength(3);
    expect(sampleValue(samples, "edge_fleet_node_info", { node: "svc1", prefix: "2001:db8:100:1::/64" })).toBe(1);
    expect(samples[1].labels.tags).toBe('a "quoted" one');
    expect(sampleValue(samples, "edge_fleet_nodes", {})).toBe(3);
    expect(sampleValue(samples, "edge_fleet_node_info", { node: "nope" })).toBeNull();
  });
});
