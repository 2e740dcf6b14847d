import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { AlertTracker, desiredAlerts } from "../../agent/receiver/alerts";
import { fileSdGroups, renderFileSd } from "../../agent/receiver/file-sd";
import { FleetState } from "../../agent/receiver/fleet-state";
import { parseHostPort, parseListenAddress } from "../../agent/receiver/listen-address";
import type { ObjectValues } from "../../agent/snmp/state-objects";

const T0 = Date.parse("2026-11-28T12:00:00Z");

function node(fleet: FleetState, name: string, seq: number, extra: ObjectValues, at = T0): void {
  const result = fleet.apply(
    {
      edgeAgentTailnetName: `${name}.example-tailnet.ts.net`,
      edgeAgentTailnetTags: "tag:monitor",
      edgeAgentPrimaryPrefix: "2001:db8:100:1::/64",
      edgeAgentScraperPath: "direct",
      edgeAgentNodeExporterUp: true,
      edgeAgentSnmpdUp: true,
      edgeAgentFirewallPort: 41641,
      edgeAgentFirewallInboundIpv6: "accept",
      edgeAgentNotificationSequence: seq,
      edgeAgentEventTime: new Date(at).toISOString(),
      ...extra,
    },
    "heartbeat",
    at,
    "100.64.0.9",
  );
  expect(result.kind).toBe("new");
}

const newFleet = () => new FleetState({ defaultHeartbeatMs: 60_000, staleAfterHeartbeats: 3, forgetAfterMs: 1e12, maxNodes: 100 }, T0);

describe("listen addresses", () => {
  it("parses IPv6 and IPv4 listeners and says what is wrong with bad ones", () => {
    expect(parseListenAddress("udp6:[::]:162")).toMatchObject({ transport: "udp6", address: "::", port: 162 });
    expect(parseListenAddress("udp:0.0.0.0:162")).toMatchObject({ transport: "udp4", address: "0.0.0.0", port: 162 });
    expect(parseListenAddress("udp:[::1]:1162")).toMatchObject({ transport: "udp6", address: "::1" });
    expect(() => parseListenAddress("udp6:0.0.0.0:162")).toThrow(/udp6 needs an IPv6 address/);
    expect(() => parseListenAddress("udp:scraper:162")).toThrow(/not an IP address/);
    expect(() => parseListenAddress("udp:0.0.0.0:70000")).toThrow(/out of range/);
    expect(() => parseListenAddress("tcp:0.0.0.0:162")).toThrow(/not a listen address/);
    expect(parseHostPort("[::]:9163")).toEqual({ host: "::", port: 9163 });
    expect(parseHostPort("127.0.0.1:9163")).toEqual({ host: "127.0.0.1", port: 9163 });
  });
});

describe("file_sd", () => {
  it("lists node:9100 with labels for nodes reporting node-exporter up, sorted, as YAML Prometheus reads", () => {
    const f = newFleet();
    node(f, "zeta", 1, { edgeAgentScraperPath: "peerRelay" });
    node(f, "alpha", 1, {});
    node(f, "down", 1, { edgeAgentNodeExporterUp: false });
    const doc = parse(renderFileSd(fileSdGroups(f)));
    expect(doc).toEqual([
      { targets: ["alpha:9100"], labels: { node: "alpha", tailnet_tags: "tag:monitor", ipv6_prefix: "2001:db8:100:1::/64", scraper_path: "direct", agent: "reporting" } },
      { targets: ["zeta:9100"], labels: { node: "zeta", tailnet_tags: "tag:monitor", ipv6_prefix: "2001:db8:100:1::/64", scraper_path: "peer-relay", agent: "reporting" } },
    ]);
    expect(parse(renderFileSd([]))).toEqual([]);
  });

  it("adds tagged peers whose agent never reported, labelled agent: silent, sorted among the others", () => {
    const f = newFleet();
    node(f, "alpha", 1, {});
    const peer = (name: string) => ({ node: name, ips: ["100.101.0.9"], tags: ["tag:monitor", "tag:web"], online: true });
    // alpha reports (its record decides); a name that is no DNS label is never a target.
    const doc = parse(renderFileSd(fileSdGroups(f, [peer("beta"), peer("alpha"), peer("Bad_name")])));
    expect(doc).toEqual([
      { targets: ["alpha:9100"], labels: { node: "alpha", tailnet_tags: "tag:monitor", ipv6_prefix: "2001:db8:100:1::/64", scraper_path: "direct", agent: "reporting" } },
      { targets: ["beta:9100"], labels: { node: "beta", tailnet_tags: "tag:monitor,tag:web", ipv6_prefix: "", scraper_path: "", agent: "silent" } },
    ]);
  });
});

describe("alerts", () => {
  it("fires for a firewall drop, a relayed path, a service down and a stale node", () => {
    const f = newFleet();
    node(f, "good", 1, {});
    node(f, "bad", 1, { edgeAgentFirewallInboundIpv6: "drop", edgeAgentScraperPath: "relay", edgeAgentScraperEndpoint: "fra", edgeAgentSnmpdUp: false });
    const names = [...desiredAlerts(f).values()].map((a) => `${a.labels.alertname} ${a.labels.node} ${a.labels.check ?? a.labels.service ?? ""}`.trim()).sort();
    expect(names).toEqual(["EdgeFirewallBlocksTailscale bad inbound-ipv6", "EdgeScraperPathRelayed bad", "EdgeServiceDown bad snmpd"]);
    f.sweep(T0 + 4 * 60_000);
    expect([...desiredAlerts(f).values()].filter((a) => a.labels.alertname === "EdgeNodeStale").map((a) => a.labels.node).sort()).toEqual(["bad", "good"]);
    const relayed = [...desiredAlerts(f).values()].find((a) => a.labels.alertname === "EdgeScraperPathRelayed")!;
    expect(relayed.annotations.summary).toContain("DERP relay via fra");
  });

  it("keeps startsAt, re-sends firing alerts with endsAt ahead, and resolves cleared ones with endsAt now", () => {
    const f = newFleet();
    node(f, "bad", 1, { edgeAgentSnmpdUp: false });
    const tracker = new AlertTracker({ resendMs: 60_000, resolvedResendForMs: 15 * 60_000 });
    expect(tracker.update(desiredAlerts(f), T0)).toBe(true);
    expect(tracker.update(desiredAlerts(f), T0 + 1000)).toBe(false);
    const firing = tracker.payload(T0 + 1000);
    expect(firing).toHaveLength(1);
    expect(firing[0].startsAt).toBe(new Date(T0).toISOString());
    expect(Date.parse(firing[0].endsAt)).toBe(T0 + 1000 + 240_000);
    node(f, "bad", 2, { edgeAgentSnmpdUp: true }, T0 + 2000);
    expect(tracker.update(desiredAlerts(f), T0 + 2000)).toBe(true);
    expect(tracker.payload(T0 + 3000)[0].endsAt).toBe(new Date(T0 + 2000).toISOString());
    tracker.update(desiredAlerts(f), T0 + 16 * 60_000 + 2001);
    expect(tracker.payload(T0 + 16 * 60_000 + 2001)).toEqual([]);
  });
});

describe("per-node metrics", () => {
  const fleetOfThree = () => {
    const f = newFleet();
    node(f, "zeta", 1, { edgeAgentScraperPath: "peerRelay", edgeAgentSnmpdUp: false });
    node(f, "alpha", 1, { edgeAgentHostName: 'odd "host"\\name\n', edgeAgentFirewallInboundIpv6: "drop", edgeAgentPrimaryPrefix: "" });
    node(f, "mid", 1, {});
    return f;
  };

  it("under nodeSeries all renders every series of every node, with HELP/TYPE, sorted nodes and escaped label values", async () => {
    const { renderFleetMetrics } = await import("../../agent/receiver/fleet-metrics");
    const text = renderFleetMetrics(fleetOfThree(), "all");
    expect(text).toContain('edge_fleet_node_info{node="alpha",tailnet_name="alpha.example-tailnet.ts.net",hostname="odd \\"host\\"\\\\name\\n",tags="tag:monitor"');
    expect(text).toContain('edge_fleet_node_scraper_path{node="zeta",path="peer-relay",family="none"} 1\n');
    expect(text).toContain('edge_fleet_node_scraper_path{node="mid",path="direct",family="none"} 1\n');
    expect(text).toContain('edge_fleet_node_firewall_verdict{node="alpha",check="inbound-ipv6",verdict="drop"} 1\n');
    expect(text).toContain('edge_fleet_node_firewall_verdict{node="mid",check="inbound-ipv6",verdict="accept"} 1\n');
    expect(text).toContain('edge_fleet_node_service_up{node="zeta",service="snmpd"} 0\n');
    expect(text).toContain('edge_fleet_node_service_up{node="mid",service="snmpd"} 1\n');
    expect(text).toContain('edge_fleet_node_last_sequence{node="mid"} 1\n');
    expect(text.indexOf('edge_fleet_node_up{node="alpha"}')).toBeLessThan(text.indexOf('edge_fleet_node_up{node="mid"}'));
    expect(text.match(/^# TYPE edge_fleet_node_\S+ gauge$/gm)).toHaveLength(9);
  });

  it("under nodeSeries problems gives every node edge_fleet_node_up and only what is wrong beside it", async () => {
    const { renderFleetMetrics } = await import("../../agent/receiver/fleet-metrics");
    const f = fleetOfThree();
    const text = renderFleetMetrics(f, "problems");
    expect(text.match(/^edge_fleet_node_up\{.*$/gm)).toEqual(['edge_fleet_node_up{node="alpha"} 1', 'edge_fleet_node_up{node="mid"} 1', 'edge_fleet_node_up{node="zeta"} 1']);
    const mid = text.split("\n").filter((line) => line.includes('node="mid"'));
    expect(mid).toEqual(['edge_fleet_node_up{node="mid"} 1']);
    expect(text).toContain('edge_fleet_node_firewall_verdict{node="alpha",check="inbound-ipv6",verdict="drop"} 1\n');
    expect(text).not.toContain('edge_fleet_node_firewall_verdict{node="alpha",check="inbound-ipv4"');
    expect(text).toContain('edge_fleet_node_scraper_path{node="zeta",path="peer-relay",family="none"} 1\n');
    expect(text).toContain('edge_fleet_node_service_up{node="zeta",service="snmpd"} 0\n');
    expect(text).not.toContain('edge_fleet_node_service_up{node="zeta",service="node_exporter"}');
    // No /64: alpha's info series is there (EdgeNodeNoGlobalIpv6 reads it), zeta's is not.
    expect(text).toMatch(/^edge_fleet_node_info\{node="alpha",.*prefix="",/m);
    expect(text).not.toMatch(/^edge_fleet_node_info\{node="zeta"/m);
    expect(text).not.toMatch(/^edge_fleet_node_last_seen_timestamp_seconds\{/m);
    // Every family is still declared, so a query for one never meets an unknown metric.
    expect(text.match(/^# TYPE edge_fleet_node_\S+ gauge$/gm)).toHaveLength(9);
    // Once stale, a node's timestamps say since when.
    f.sweep(T0 + 4 * 60_000);
    const stale = renderFleetMetrics(f, "problems");
    expect(stale).toContain('edge_fleet_node_up{node="mid"} 0\n');
    expect(stale).toMatch(/^edge_fleet_node_last_seen_timestamp_seconds\{node="mid"\} \d+/m);
    expect(stale).toContain('edge_fleet_node_heartbeat_interval_seconds{node="mid"} 60\n');
  });

  it("counts every node per value under both settings", async () => {
    const { renderFleetMetrics } = await import("../../agent/receiver/fleet-metrics");
    const f = fleetOfThree();
    for (const mode of ["problems", "all"] as const) {
      const text = renderFleetMetrics(f, mode);
      expect(text).toContain('edge_fleet_nodes_by_scraper_path{path="direct",family="none"} 2\n');
      expect(text).toContain('edge_fleet_nodes_by_scraper_path{path="peer-relay",family="none"} 1\n');
      expect(text).toContain('edge_fleet_nodes_by_firewall_verdict{check="inbound-ipv6",verdict="accept"} 2\n');
      expect(text).toContain('edge_fleet_nodes_by_firewall_verdict{check="inbound-ipv6",verdict="drop"} 1\n');
      expect(text).toContain('edge_fleet_nodes_by_firewall_verdict{check="inbound-ipv4",verdict="unknown"} 3\n');
      expect(text).toContain('edge_fleet_nodes_by_service_up{service="snmpd",up="0"} 1\n');
      expect(text).toContain('edge_fleet_nodes_by_service_up{service="snmpd",up="1"} 2\n');
      expect(text).toContain('edge_fleet_nodes_by_tags{tags="tag:monitor"} 3\n');
      expect(text).toContain('edge_fleet_nodes_by_tailnet_policy_verdict{flow="scrape-node-exporter",verdict="unknown"} 3\n');
    }
  });

  it("keeps a healthy fleet of 10,000 nodes under 100 bytes a node", async () => {
    const { renderFleetMetrics } = await import("../../agent/receiver/fleet-metrics");
    const f = new FleetState({ defaultHeartbeatMs: 60_000, staleAfterHeartbeats: 3, forgetAfterMs: 1e12, maxNodes: 10_000 }, T0);
    for (let i = 0; i < 10_000; i++) node(f, `node-${String(i).padStart(5, "0")}`, 1, { edgeAgentFirewallInboundIpv4: "accept", edgeAgentPrefixInAllocation: "inside", edgeAgentTailnetState: "Running" });
    const problems = renderFleetMetrics(f, "problems");
    expect(problems.length / 10_000).toBeLessThan(100);
    expect(renderFleetMetrics(f, "all").length / 10_000).toBeGreaterThan(1000);
  });
});
