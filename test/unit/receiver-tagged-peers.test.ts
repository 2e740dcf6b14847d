// The scraper's status -> the peers carrying the node tag (named as reporting nodes are, DNS
// labels only), and why one of them is silent: the cause and fix the alert names.
import { describe, expect, it } from "vitest";
import type { NotifyVerdict } from "../../agent/policy/notify-flows";
import { renderPeerMetrics } from "../../agent/receiver/peer-metrics";
import { scraperTag, silentAlert, silentCause, staleCause } from "../../agent/receiver/silent-cause";
import { PeerListError, taggedPeers, type TaggedPeer } from "../../agent/receiver/tagged-peers";
import { defaultScenario, statusDocument } from "../helpers/tailscaled";

const TAGS = { node: "tag:monitor", scraper: "tag:scraper" };

function scraperStatus(): unknown {
  return statusDocument({
    ...defaultScenario(),
    selfHostName: "scraper",
    selfTags: ["tag:scraper", "tag:monitor"],
    selfIps: ["100.64.0.1", "fd7a:115c:a1e0::1"],
    peers: [
      { hostName: "Web1", ips: ["100.101.0.1", "fd7a:115c:a1e0::101"], tags: ["tag:monitor", "tag:web"] },
      { hostName: "db1", ips: ["100.101.0.2"], tags: ["tag:monitor"], online: false },
      { hostName: "desk", ips: ["100.101.0.3"] },
      { hostName: "odd", dnsName: "web_1.example-tailnet.ts.net.", ips: ["100.101.0.4"], tags: ["tag:monitor"] },
      { hostName: "My Laptop", dnsName: "", ips: ["100.101.0.5"], tags: ["tag:monitor"] },
    ],
  });
}

describe("taggedPeers", () => {
  it("lists the peers carrying the tag by their MagicDNS short name, sorted, and refuses names that are no DNS label", () => {
    const list = taggedPeers(scraperStatus(), "tag:monitor");
    expect(list.tagged).toEqual([
      { node: "db1", ips: ["100.101.0.2"], tags: ["tag:monitor"], online: false },
      { node: "web1", ips: ["100.101.0.1", "fd7a:115c:a1e0::101"], tags: ["tag:monitor", "tag:web"], online: true },
    ]);
    expect(list.refused).toEqual(["web_1", "my laptop"]);
    expect(list.selfIps).toEqual(["100.64.0.1", "fd7a:115c:a1e0::1"]);
    expect(list.selfTags).toEqual(["tag:scraper", "tag:monitor"]);
    // Untagged peers keep their addresses, for nodes that report without the tag.
    expect(list.addresses.get("desk")).toEqual(["100.101.0.3"]);
    expect(taggedPeers(scraperStatus(), "tag:web").tagged.map((p) => p.node)).toEqual(["web1"]);
  });

  it("copes with a logged-out tailscaled (no peers) and refuses what is no status", () => {
    expect(taggedPeers(statusDocument({ ...defaultScenario(), backendState: "NeedsLogin" }), "tag:monitor").tagged).toEqual([]);
    expect(() => taggedPeers([], "tag:monitor")).toThrow(PeerListError);
    expect(() => taggedPeers({ Peer: [1] }, "tag:monitor")).toThrow(/Peer that is not a map/);
  });

  it("takes the scraper's role tag from its own tags, else tag:scraper", () => {
    expect(scraperTag(["tag:monitor", "tag:prom"], "tag:monitor")).toBe("tag:prom");
    expect(scraperTag(["tag:monitor"], "tag:monitor")).toBe("tag:scraper");
  });
});

describe("silentCause", () => {
  const peer: TaggedPeer = { node: "web1", ips: ["100.101.0.1"], tags: ["tag:monitor"], online: true };
  const verdict = (v: Partial<NotifyVerdict>): NotifyVerdict => ({ id: "notify-scraper", node: "web1", verdict: "accept", decidedBy: "rule 0: {}", ...v });

  it("names the ACL when the scraper's filter drops the node's udp/162 by default deny, with the entry to add", () => {
    const c = silentCause(peer, verdict({ verdict: "drop", decidedBy: "default deny: no rule of 3 admits udp/162 from 100.101.0.1 to 100.64.0.1" }), TAGS);
    expect(c.cause).toBe("acl-drops-notify");
    expect(c.text).toBe("the scraper's tailnet policy drops udp/162 from web1 (default deny: no rule of 3 admits udp/162 from 100.101.0.1 to 100.64.0.1)");
    expect(c.fix).toContain('{"action": "accept", "src": ["tag:monitor"], "dst": ["tag:scraper:162"], "proto": "udp"}');
  });

  it("tells shields-up on the scraper from the policy, an offline peer, an unknown verdict, and the rest", () => {
    expect(silentCause(peer, verdict({ verdict: "drop", decidedBy: "shields-up", reason: "sudo tailscale set --shields-up=false" }), TAGS)).toMatchObject({ cause: "scraper-refuses", fix: "sudo tailscale set --shields-up=false" });
    expect(silentCause({ ...peer, online: false }, verdict({}), TAGS).cause).toBe("offline");
    expect(silentCause(peer, verdict({ verdict: "unknown", decidedBy: "localapi-permission", reason: "no access" }), TAGS)).toMatchObject({ cause: "verdict-unknown", text: expect.stringContaining("(no access)") });
    expect(silentCause(peer, null, TAGS)).toMatchObject({ cause: "verdict-unknown", text: expect.stringContaining("could not be read") });
    expect(silentCause(peer, verdict({}), TAGS)).toMatchObject({ cause: "no-agent-or-unreachable", fix: expect.stringContaining("edge-agent trap --test") });
  });

  it("adds the scraper's filter to a stale node's alert only when it drops the node's udp/162", () => {
    const stale = { labels: { alertname: "EdgeNodeStale", node: "web1", severity: "critical" }, annotations: { summary: "web1: no notification", description: "d" } };
    expect(staleCause(stale, verdict({}), TAGS)).toBe(stale);
    expect(staleCause(stale, null, TAGS)).toBe(stale);
    const told = staleCause(stale, verdict({ verdict: "drop", decidedBy: "default deny: x" }), TAGS);
    expect(told.labels).toEqual(stale.labels);
    expect(told.annotations.summary).toBe("web1: no notification; likely cause: the scraper's tailnet policy drops its udp/162 (default deny: x)");
    expect(told.annotations.description).toContain('"dst": ["tag:scraper:162"]');
  });

  it("builds EdgeNodeSilent with the receiver's label set", () => {
    const alert = silentAlert(peer, verdict({}), TAGS, 90_000);
    expect(alert.labels).toEqual({ alertname: "EdgeNodeSilent", node: "web1", severity: "warning" });
    expect(alert.annotations.summary).toMatch(/^web1: carries tag:monitor but no notification from its edge-agent arrived in 1.5 minutes; likely cause: no edge-agent runs on web1/);
  });
});

describe("renderPeerMetrics", () => {
  const coverage = [
    { node: "a", silent: true, verdict: { id: "notify-scraper", node: "a", verdict: "drop", decidedBy: "default deny" } },
    { node: "b", silent: null, verdict: null },
    { node: "c", silent: false, verdict: { id: "notify-scraper", node: "c", verdict: "accept", decidedBy: "rule 1" } },
    { node: "d", silent: false, verdict: { id: "notify-scraper", node: "d", verdict: "accept", decidedBy: "rule 1" } },
  ] as const satisfies Parameters<typeof renderPeerMetrics>[0];

  it("writes silent for tagged peers only and a verdict where one was decided, with both families always declared", () => {
    const text = renderPeerMetrics([...coverage], "all");
    expect(text).toContain('edge_fleet_node_silent{node="a"} 1\n');
    expect(text).toContain('edge_fleet_node_silent{node="c"} 0\n');
    expect(text).toContain('edge_fleet_node_notify_verdict{node="a",verdict="drop"} 1\n');
    expect(text).toContain('edge_fleet_node_notify_verdict{node="c",verdict="accept"} 1\n');
    expect(text).not.toContain('node="b"');
    expect(renderPeerMetrics([])).toMatch(/# TYPE edge_fleet_node_silent gauge\n[\s\S]*# TYPE edge_fleet_node_notify_verdict gauge\n[\s\S]*# TYPE edge_fleet_nodes_by_notify_verdict gauge\n$/);
  });

  it("under nodeSeries problems writes only silent peers, drops, and the verdict of a stale node, and counts every verdict", () => {
    const text = renderPeerMetrics([...coverage], "problems", (node) => node === "d");
    expect(text).toContain('edge_fleet_node_silent{node="a"} 1\n');
    expect(text).not.toContain('edge_fleet_node_silent{node="c"}');
    expect(text).toContain('edge_fleet_node_notify_verdict{node="a",verdict="drop"} 1\n');
    expect(text).not.toContain('edge_fleet_node_notify_verdict{node="c"');
    expect(text).toContain('edge_fleet_node_notify_verdict{node="d",verdict="accept"} 1\n');
    expect(text).toContain('edge_fleet_nodes_by_notify_verdict{verdict="accept"} 2\n');
    expect(text).toContain('edge_fleet_nodes_by_notify_verdict{verdict="drop"} 1\n');
  });
});
