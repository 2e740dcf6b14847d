// The fleet page renderer (agent/receiver/fleet-page.ts): each node's row with what it reported,
// problems first and marked, stale and silent nodes, the row limit, and that text from the
// network never becomes markup.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FLEET_PAGE_CSP, renderFleetPage } from "../../agent/receiver/fleet-page";
import { FleetState } from "../../agent/receiver/fleet-state";
import { stateObjects, type ObjectValues } from "../../agent/snmp/state-objects";
import type { FirewallState } from "../../agent/state/firewall";
import { PARTS } from "../../agent/state/parts";
import { cellText, pageRows } from "../helpers/fleet-page-rows";
import { sampleNodeState } from "../helpers/sample-node-state";

const T0 = Date.parse("2026-12-03T08:00:00Z");

/** A node as it reports itself, every firewall check accepting unless `overrides` say otherwise. */
function values(hostname: string, overrides: ObjectValues = {}, path: "direct" | "relay" = "direct"): ObjectValues {
  const state = sampleNodeState({ hostname, path });
  for (const check of (state.firewall as FirewallState).checks) check.verdict = "accept";
  return { ...stateObjects(state), edgeAgentNotificationSequence: 1, edgeAgentEventTime: new Date(T0).toISOString(), ...overrides };
}

function fleetOf(...nodes: ObjectValues[]): FleetState {
  const fleet = new FleetState({ defaultHeartbeatMs: 60_000, staleAfterHeartbeats: 3, forgetAfterMs: 1e12, maxNodes: 100 }, T0);
  for (const v of nodes) fleet.apply(v, "heartbeat", T0, "100.64.0.10");
  return fleet;
}

function page(fleet: FleetState, extra: { silent?: string[]; maxRows?: number } = {}): string {
  return renderFleetPage({ records: fleet.nodes.values(), silent: extra.silent ?? [], nowMs: T0 + 1000, version: "9.9.9", maxRows: extra.maxRows ?? 1000 });
}

describe("fleet page", () => {
  it("shows every node's row with what it reported, under the parts' columns", () => {
    const html = page(fleetOf(values("alpha"), values("beta", { edgeAgentSnmpdUp: false, edgeAgentFirewallInboundIpv4: "drop", edgeAgentTailnetTags: "", edgeAgentPrimaryPrefix: "" }, "relay")));
    const head = [...html.matchAll(/<th scope="col">(.*?)<\/th>/g)].map((m) => m[1]);
    expect(head).toEqual(["Node", "Report", ...PARTS.flatMap((part) => part.page.map((column) => column.heading))]);
    expect(head).toEqual(expect.arrayContaining(["/64", "Tags", "Path", "Services", "Firewall"]));

    const [beta, alpha] = pageRows(html);
    expect(alpha.node).toBe("alpha");
    expect(alpha.problem).toBe(false);
    expect(cellText(alpha, "Report")).toBe("reporting | last 08:00:00 UTC | event heartbeat");
    expect(cellText(alpha, "/64")).toBe("2001:db8:100:1::/64 | allocation inside");
    expect(cellText(alpha, "Tags")).toBe("tag:monitor");
    expect(cellText(alpha, "Path")).toBe("direct | over ipv6 | to [2001:db8:100:2::1]:41641");
    expect(cellText(alpha, "Services")).toBe("node_exporter up | snmpd up");
    expect(cellText(alpha, "Firewall")).toBe("UDP port 41641 | inbound-ipv6 accept | inbound-ipv4 accept | outbound-ipv6 accept | outbound-ipv4 accept | forward-ipv6 unknown | forward-ipv4 unknown");
    expect(alpha.cells.Path[0]).toEqual({ text: "direct", tone: "ok" });

    // A node with problems comes first, marked, each problem in the problem colour.
    expect(beta.node).toBe("beta");
    expect(beta.problem).toBe(true);
    expect(cellText(beta, "Path")).toBe("relay | via fra");
    const bad = (heading: string) => beta.cells[heading].filter((l) => l.tone === "bad").map((l) => l.text);
    expect(bad("Path")).toEqual(["relay"]);
    expect(bad("Services")).toEqual(["snmpd down"]);
    expect(bad("Firewall")).toEqual(["inbound-ipv4 drop"]);
    expect(bad("Tags")).toEqual(["none"]);
    expect(bad("/64")).toEqual(["none"]);
    expect(bad("Tailnet")).toEqual([]);
    expect(html).toContain('<p class="summary">2 nodes · 0 stale · 0 silent · <span class="bad">1 with a problem</span></p>');
  });

  it("marks a stale node and lists silent ones (never reported) as problems", () => {
    const fleet = fleetOf(values("alpha"), values("gamma"));
    fleet.sweep(T0 + 10 * 60_000 + 1);
    fleet.apply(values("alpha", { edgeAgentNotificationSequence: 2 }), "heartbeat", T0 + 10 * 60_000 + 2, "100.64.0.10");
    const html = page(fleet, { silent: ["delta", "alpha"] });
    const list = pageRows(html);
    expect(list.map((r) => [r.node, r.problem])).toEqual([["delta", true], ["gamma", true], ["alpha", false]]);
    expect(cellText(list[0], "Report")).toBe("silent | never reported");
    expect(cellText(list[0], "Firewall")).toBe("");
    expect(list[1].cells.Report[0]).toEqual({ text: "stale", tone: "bad" });
    expect(html).toContain('3 nodes · <span class="bad">1 stale</span> · <span class="bad">1 silent</span> · <span class="bad">2 with a problem</span>');
  });

  it("judges a node again when it reports again", () => {
    const fleet = fleetOf(values("alpha"));
    expect(pageRows(page(fleet))[0].problem).toBe(false);
    fleet.apply(values("alpha", { edgeAgentNotificationSequence: 2, edgeAgentFirewallOutboundIpv6: "drop" }), "firewallChanged", T0 + 1, "100.64.0.10");
    const [alpha] = pageRows(page(fleet));
    expect(alpha.problem).toBe(true);
    expect(alpha.cells.Firewall.filter((l) => l.tone === "bad").map((l) => l.text)).toEqual(["outbound-ipv6 drop"]);
  });

  it("keeps to maxRows, problems first, and says how many it left out", () => {
    const html = page(fleetOf(values("a"), values("b", { edgeAgentSnmpdUp: false }), values("c")), { maxRows: 1 });
    expect(pageRows(html).map((r) => r.node)).toEqual(["b"]);
    expect(html).toContain("Showing 1 of 3 nodes, those with a problem first");
  });

  it("says so when no node has reported", () => {
    expect(page(fleetOf())).toContain("No node has reported yet.");
  });

  it("never turns reported text into markup: names, tags and endpoints are escaped, attributes too", () => {
    const hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';
    const html = page(
      fleetOf(
        values("x", { edgeAgentTailnetName: `${hostile}.ts.net`, edgeAgentTailnetTags: hostile, edgeAgentScraperEndpoint: hostile, edgeAgentVersion: "'&<b>", edgeAgentFirewallInboundIpv6: hostile }),
      ),
      { silent: ["<svg onload=alert(3)>"] },
    );
    const tags = new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1].toLowerCase()));
    expect([...tags].sort()).toEqual(["a", "body", "div", "h1", "head", "html", "meta", "p", "span", "style", "table", "tbody", "td", "th", "thead", "time", "title", "tr"]);
    expect(html).not.toMatch(/<[^>]*\son(error|load)=/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;");
    expect(html).toContain("&#39;&amp;&lt;b&gt;");
    expect(html).toContain("&lt;svg onload=alert(3)&gt;");
  });

  it("allows exactly its own stylesheet in its Content-Security-Policy, and nothing else", () => {
    const html = page(fleetOf(values("alpha")));
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    expect(FLEET_PAGE_CSP).toContain(`style-src 'sha256-${createHash("sha256").update(style).digest("base64")}'`);
    expect(FLEET_PAGE_CSP).toMatch(/^default-src 'none';/);
    expect(FLEET_PAGE_CSP).not.toContain("script-src");
  });
});
