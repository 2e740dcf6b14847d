// The whole design in the netns lab (scripts/lab): a scraper and three nodes, each with the real
// node-exporter, snmpd and `edge-agent run`; on the scraper `edge-agent receive`, Prometheus (node
// job from the receiver's file_sd) and Alertmanager. Breaking a node must be seen everywhere it
// should be, within seconds, and a receiver that was away must miss nothing.
import { expect, it } from "vitest";
import { execIn, startService, stopService, writeScenario } from "../../scripts/netns-lab/lab";
import { labPaths, scenarioFor } from "../../scripts/netns-lab/services";
import { TAILSCALED_PORT, agentNodes, nodeByName } from "../../scripts/netns-lab/topology";
import { DEFAULT_BASE_OID, OBJECTS, oidTree } from "../../agent/snmp/oid-tree";
import {
  agentLogLength,
  agentLogged,
  dropTailscaledRule,
  fileSdText,
  fleetMetrics,
  hasAlert,
  lastSequence,
  missingSequences,
  promQuery,
  promTargets,
  receiverEvents,
  sampleValue,
  snmpGetFromScraper,
  snmpWalkFromScraper,
  type ReceiverEvent,
} from "../helpers/lab";
import { labForFile } from "../helpers/lab-up";
import { waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";

const NODE_NAMES = agentNodes().map((n) => n.name); // svc1, router, cgnat1
const tree = oidTree(DEFAULT_BASE_OID);
const oid = (name: string) => `${tree.objectOid(name)}.0`;
/** The /64s each node may call primary: the router has two (its uplink and its service subnet). */
const PRIMARY: Record<string, string[]> = { svc1: ["2001:db8:100:1::/64"], router: ["2001:db8:100:2::/64", "2001:db8:100:201::/64"], cgnat1: [""] };
const SEEN_WITHIN = 15_000; // a 2 s probe cycle, an inform, Prometheus's 2 s scrape: seconds, with slack for 2 shared cores

describeWith(
  { root: true, binaries: ["python3", "ip", "nsenter", "unshare", "nft", "curl", "snmpd", "snmpget", "snmpwalk", "prometheus", "prometheus-alertmanager", "prometheus-node-exporter"] },
  "the netns lab: scraper + svc1, router (/56), cgnat1",
  () => {
    /** Fails at once, naming what is missing, instead of timing out on every assertion. */
    const requireLab = labForFile("e");

    const eventsOf = (node: string, event: string, after = 0): ReceiverEvent[] => receiverEvents(requireLab()).slice(after).filter((e) => e.node === node && e.event === event);
    /** A firewallChanged notification from `node` since `after` saying inbound IPv6 is now `verdict`. */
    const firewallNow = (node: string, verdict: string, after: number): boolean =>
      eventsOf(node, "firewallChanged", after).some((e) => e.summary.startsWith(`firewall on UDP ${TAILSCALED_PORT}: inbound-ipv6 ${verdict},`));

    it("runs every piece: the agent on each node, the receiver, Prometheus and Alertmanager on the scraper", () => {
      const state = requireLab();
      const services = state.processes.map((p) => p.key);
      for (const node of NODE_NAMES) for (const s of ["node-exporter", "snmpd", "edge-agent"]) expect(services).toContain(`${node}/${s}`);
      for (const s of ["edge-agent-receive", "prometheus", "alertmanager"]) expect(services).toContain(`scraper/${s}`);
    });

    it("Prometheus discovers every node's node-exporter through the receiver's file_sd and scrapes edge_agent_* from each", async () => {
      const state = requireLab();
      await waitFor(
        "every node as an up target of the node job",
        () => {
          const targets = promTargets(state, "node");
          const up = targets.filter((t) => t.health === "up").map((t) => t.labels.instance);
          const sd = fileSdText(state);
          return NODE_NAMES.every((n) => up.includes(`${n}:9100`) && sd.includes(`${n}:9100`)) ? targets : null;
        },
        30_000,
        500,
      );
      const series = await waitFor("edge_agent_build_info from every node", () => {
        const s = promQuery(state, 'edge_agent_build_info{job="node"}');
        return NODE_NAMES.every((n) => s.some((x) => x.metric.instance === `${n}:9100`)) ? s : null;
      }, 15_000, 500);
      expect(series.length).toBe(NODE_NAMES.length);
      // What each node says of itself arrives through Prometheus: cgnat1 has no global /64 and is relayed.
      const expectedPaths = { svc1: "direct", router: "direct", cgnat1: "relay" };
      const paths = await settle(
        () => {
          const found = promQuery(state, 'edge_agent_scraper_path{job="node"} == 1');
          return Object.fromEntries(NODE_NAMES.map((n) => [n, own(found.find((p) => p.metric.instance === `${n}:9100`)?.metric, "path")]));
        },
        (v) => JSON.stringify(v) === JSON.stringify(expectedPaths),
      );
      expect(paths).toEqual(expectedPaths);
      const expectedPrefixes = { svc1: ["2001:db8:100:1::/64 true"], router: ["2001:db8:100:201::/64 true", "2001:db8:100:2::/64 true"], cgnat1: [] };
      const prefixes = await settle(
        () => {
          const found = promQuery(state, 'edge_agent_ipv6_prefix_info{job="node"}');
          return Object.fromEntries(NODE_NAMES.map((n) => [n, found.filter((p) => p.metric.instance === `${n}:9100`).map((p) => `${own(p.metric, "prefix")} ${p.metric.in_allocation}`).sort()]));
        },
        (v) => JSON.stringify(v) === JSON.stringify(expectedPrefixes),
      );
      expect(prefixes).toEqual(expectedPrefixes);
    });

    it("the node job's labels from the receiver's file_sd leave the edge_agent_* metrics' own labels alone", async () => {
      const state = requireLab();
      // Prometheus renames a scraped label that a target label shadows to exported_<name>: a user
      // querying edge_agent_scraper_path{path="relay"} or edge_agent_ipv6_prefix_info{prefix=...}
      // would then read the target's label instead of the metric's.
      const series = await settle(() => promQuery(state, '{job="node", __name__=~"edge_agent_.*"}'), (v) => v.length > 0);
      const clashes = [...new Set(series.flatMap((s) => Object.keys(s.metric).filter((k) => k.startsWith("exported_")).map((k) => `${s.metric.__name__}: ${k}`)))].sort();
      expect(clashes, "edge_agent_* labels renamed because a file_sd target label has the same name").toEqual([]);
    });

    it("the scraper polls each node's snmpd over the tailnet and reads the agent's objects through AgentX", async () => {
      const state = requireLab();
      for (const name of NODE_NAMES) {
        const node = nodeByName(name);
        const matches = (v: string[]) => v[0] === name && v[1] === `${name}.example-tailnet.ts.net` && PRIMARY[name].includes(v[2]) && v[3] === String(node.scraperPath === "relay" ? 2 : 1);
        const got = await settle(() => snmpGetFromScraper(state, name, [oid("edgeAgentHostName"), oid("edgeAgentTailnetName"), oid("edgeAgentPrimaryPrefix"), oid("edgeAgentScraperPath")]), matches);
        const [host, tailnetName, primary, path] = got;
        expect(host, `${name}: edgeAgentHostName`).toBe(name);
        expect(tailnetName, `${name}: edgeAgentTailnetName`).toBe(`${name}.example-tailnet.ts.net`);
        expect(PRIMARY[name], `${name}: edgeAgentPrimaryPrefix`).toContain(primary);
        expect(Number(path), `${name}: edgeAgentScraperPath (1 direct, 2 relay)`).toBe(node.scraperPath === "relay" ? 2 : 1);
        const walked = snmpWalkFromScraper(state, name, tree.objects);
        // Every object the bundle serves, in MIB order: the packaged program registers them all.
        expect([...walked.keys()], `${name}: the walk of ${tree.objects}`).toEqual(OBJECTS.filter((o) => o.access === "read-only").map((o) => oid(o.name)));
        expect(walked.get(oid("edgeAgentTailnetAddresses"))).toContain(node.tailnet!.v4);
        expect(walked.get(oid("edgeAgentFirewallPort"))).toBe(String(TAILSCALED_PORT));
      }
      // The router's DESIGN.md forward chain lets tailscaled's UDP through for net6_svc.
      const forward = await settle(() => snmpGetFromScraper(state, "router", [oid("edgeAgentFirewallForwardIpv6")])[0], (v) => v === "1");
      expect(Number(forward), "router: edgeAgentFirewallForwardIpv6 (1 accept, 2 drop)").toBe(1);
    });

    it("a relayed node is an alert in Alertmanager", async () => {
      const state = requireLab();
      await waitFor("EdgeScraperPathRelayed for cgnat1", () => hasAlert(state, { alertname: "EdgeScraperPathRelayed", node: "cgnat1" }), SEEN_WITHIN, 500);
      expect(hasAlert(state, { alertname: "EdgeScraperPathRelayed", node: "svc1" })).toBe(false);
    });

    it("a rule dropping tailscaled's port is a notification, an edge_fleet_ verdict and an alert; removing it resolves them", async () => {
      const state = requireLab();
      const before = receiverEvents(state).length;
      execIn("svc1", "nft", ["-f", "-"], state.dir, dropTailscaledRule());
      try {
        await waitFor("svc1's firewallChanged notification to drop", () => firewallNow("svc1", "drop", before), SEEN_WITHIN, 250);
        await waitFor("edge_fleet_node_firewall_verdict drop for svc1", () => sampleValue(fleetMetrics(state), "edge_fleet_node_firewall_verdict", { node: "svc1", check: "inbound-ipv6", verdict: "drop" }) === 1, SEEN_WITHIN, 250);
        await waitFor("EdgeFirewallBlocksTailscale for svc1 in Alertmanager", () => hasAlert(state, { alertname: "EdgeFirewallBlocksTailscale", node: "svc1", check: "inbound-ipv6" }), SEEN_WITHIN, 250);
        expect(hasAlert(state, { alertname: "EdgeFirewallBlocksTailscale", node: "router" })).toBe(false);
      } finally {
        execIn("svc1", "nft", ["delete", "table", "inet", "lab_break"], state.dir);
      }
      // Told apart by what it says, not by order: the agent hears nft's change while nft exits.
      await waitFor("svc1's firewallChanged notification back to accept", () => firewallNow("svc1", "accept", before), SEEN_WITHIN, 250);
      // The receiver writes a node's verdicts only while one is a drop (receiver.nodeSeries problems).
      await waitFor("svc1's drop series gone from edge_fleet_node_firewall_verdict", () => sampleValue(fleetMetrics(state), "edge_fleet_node_firewall_verdict", { node: "svc1" }) === null, SEEN_WITHIN, 250);
      await waitFor("the alert resolved in Alertmanager", () => !hasAlert(state, { alertname: "EdgeFirewallBlocksTailscale", node: "svc1" }), SEEN_WITHIN, 250);
    });

    it("a packet filter losing the 9100 entry is a policyChanged notification, an edge_fleet_ verdict and an alert; restoring it resolves them", async () => {
      const state = requireLab();
      const paths = labPaths(state.dir);
      const seeded = scenarioFor(nodeByName("svc1"));
      const policyNow = (verdict: string, after: number): boolean =>
        eventsOf("svc1", "policyChanged", after).some((e) => e.summary.startsWith(`tailnet policy: scrape-node-exporter ${verdict}, poll-snmpd accept`));
      const before = receiverEvents(state).length;
      // What control would send svc1 after the policy's tcp/9100 entry is deleted; the lab's
      // tailscaled follows the file, and the agent reads it again in its next full cycle.
      writeScenario(paths, "svc1", { ...seeded, packetFilter: seeded.packetFilter!.slice(1) });
      try {
        await waitFor("svc1's policyChanged notification to drop", () => policyNow("drop", before), SEEN_WITHIN, 250);
        await waitFor("edge_fleet_node_tailnet_policy_verdict drop for svc1", () => sampleValue(fleetMetrics(state), "edge_fleet_node_tailnet_policy_verdict", { node: "svc1", flow: "scrape-node-exporter", verdict: "drop" }) === 1, SEEN_WITHIN, 250);
        await waitFor("EdgeTailnetPolicyBlocksScraper for svc1 in Alertmanager", () => hasAlert(state, { alertname: "EdgeTailnetPolicyBlocksScraper", node: "svc1", flow: "scrape-node-exporter" }), SEEN_WITHIN, 250);
        expect(hasAlert(state, { alertname: "EdgeTailnetPolicyBlocksScraper", node: "router" })).toBe(false);
      } finally {
        writeScenario(paths, "svc1", seeded);
      }
      await waitFor("svc1's policyChanged notification back to accept", () => policyNow("accept", before), SEEN_WITHIN, 250);
      await waitFor("the alert resolved in Alertmanager", () => !hasAlert(state, { alertname: "EdgeTailnetPolicyBlocksScraper", node: "svc1" }), SEEN_WITHIN, 250);
    });

    it("removing a node's global /64 is an address-changed notification", async () => {
      const state = requireLab();
      const svc1 = nodeByName("svc1");
      const before = receiverEvents(state).length;
      execIn("svc1", "ip", ["-6", "addr", "del", svc1.uplink.v6!, "dev", "eth0"], state.dir);
      try {
        await waitFor("svc1's addressChanged notification", () => eventsOf("svc1", "addressChanged", before).length > 0, SEEN_WITHIN, 250);
        await waitFor("edge_fleet_node_info without a prefix for svc1", () => sampleValue(fleetMetrics(state), "edge_fleet_node_info", { node: "svc1", prefix: "" }) === 1, SEEN_WITHIN, 250);
      } finally {
        execIn("svc1", "ip", ["-6", "addr", "add", svc1.uplink.v6!, "dev", "eth0", "nodad"], state.dir);
        execIn("svc1", "ip", ["-6", "route", "replace", "default", "via", svc1.uplink.v6Gateway!, "dev", "eth0"], state.dir);
      }
      // With its /64 back svc1 has nothing wrong to describe: its info series goes (receiver.nodeSeries problems).
      await waitFor("svc1's edge_fleet_node_info gone with its /64 back", () => sampleValue(fleetMetrics(state), "edge_fleet_node_info", { node: "svc1" }) === null, SEEN_WITHIN, 250);
    });

    it("stopping a node's node-exporter is service-down, and its file_sd target goes; starting it brings both back", async () => {
      const state = requireLab();
      const before = receiverEvents(state).length;
      await stopService("cgnat1", "node-exporter", state.dir);
      try {
        await waitFor("cgnat1's serviceDown notification", () => eventsOf("cgnat1", "serviceDown", before).length > 0, SEEN_WITHIN, 250);
        expect(sampleValue(fleetMetrics(state), "edge_fleet_node_service_up", { node: "cgnat1", service: "node_exporter" })).toBe(0);
        await waitFor("cgnat1:9100 gone from the file_sd file", () => !fileSdText(state).includes("cgnat1:9100"), SEEN_WITHIN, 250);
        await waitFor("cgnat1:9100 gone from Prometheus's targets", () => !promTargets(state, "node").some((t) => t.labels.instance === "cgnat1:9100"), SEEN_WITHIN, 500);
        expect(fileSdText(state)).toContain("svc1:9100");
        await waitFor("EdgeServiceDown for cgnat1", () => hasAlert(state, { alertname: "EdgeServiceDown", node: "cgnat1", service: "node_exporter" }), SEEN_WITHIN, 250);
      } finally {
        await startService("cgnat1", "node-exporter", state.dir);
      }
      await waitFor("cgnat1's serviceUp notification", () => eventsOf("cgnat1", "serviceUp", before).length > 0, SEEN_WITHIN, 250);
      await waitFor("cgnat1:9100 back as an up target", () => promTargets(state, "node").some((t) => t.labels.instance === "cgnat1:9100" && t.health === "up"), SEEN_WITHIN + 5_000, 500);
    });

    it("a receiver that was stopped while things changed misses nothing once it is back", { timeout: 180_000 }, async () => {
      const state = requireLab();
      // From a settled lab: every node has reported, and the receiver has both services up, so each
      // change below is news.
      await waitFor("every node's first notification, and svc1's node-exporter and router's snmpd up, at the receiver", () => {
        const metrics = fleetMetrics(state);
        const reported = new Set(receiverEvents(state).map((e) => e.node));
        // A service that answers has no edge_fleet_node_service_up series (receiver.nodeSeries problems).
        return NODE_NAMES.every((n) => reported.has(n)) && sampleValue(metrics, "edge_fleet_node_service_up", { node: "svc1", service: "node_exporter" }) === null && sampleValue(metrics, "edge_fleet_node_service_up", { node: "router", service: "snmpd" }) === null;
      }, SEEN_WITHIN, 250);
      await stopService("scraper", "edge-agent-receive", state.dir);
      const before = receiverEvents(state).length;
      const svc1Log = agentLogLength(state, "svc1");
      const routerLog = agentLogLength(state, "router");
      // Changes while the receiver is away: the agents must keep them (outbox) and deliver them later.
      // Services, not svc1's firewall: the tests above changed that four times within a minute, and
      // the flap damper would hold a fifth change back for 60 s, which is not what this test is about.
      await stopService("svc1", "node-exporter", state.dir);
      await stopService("router", "snmpd", state.dir);
      try {
        // Until both agents have seen their change (and so queued a notification nobody acknowledges).
        await waitFor("the agents on svc1 and router to see the changes", () => agentLogged(state, "svc1", "serviceDown", svc1Log) && agentLogged(state, "router", "serviceDown", routerLog), SEEN_WITHIN, 250);
        await startService("scraper", "edge-agent-receive", state.dir);
        // The notifiers retry with a doubling backoff, so delivery may lag the return by one step.
        await waitFor("svc1's serviceDown delivered after the receiver came back", () => eventsOf("svc1", "serviceDown", before).length > 0, 70_000, 250);
        await waitFor("router's serviceDown delivered after the receiver came back", () => eventsOf("router", "serviceDown", before).length > 0, 70_000, 250);
        const metrics = fleetMetrics(state);
        expect(sampleValue(metrics, "edge_fleet_node_service_up", { node: "svc1", service: "node_exporter" })).toBe(0);
        expect(sampleValue(metrics, "edge_fleet_node_service_up", { node: "router", service: "snmpd" })).toBe(0);
        // Every node's sequence numbers, over the receiver's whole life, have no gap.
        for (const node of NODE_NAMES) {
          expect(lastSequence(receiverEvents(state), node), `${node} delivered notifications`).toBeGreaterThanOrEqual(0);
          expect(missingSequences(receiverEvents(state), node), `${node}: sequence numbers the receiver never saw`).toEqual([]);
        }
      } finally {
        await startService("svc1", "node-exporter", state.dir);
        await startService("router", "snmpd", state.dir);
        await startService("scraper", "edge-agent-receive", state.dir);
      }
    });
  },
);

/**
 * Reads until `ok` holds or SEEN_WITHIN passes, and returns the last reading for the assertions:
 * on two shared cores a probe can time out for a cycle, which reads as a blip, not as the state.
 */
async function settle<T>(read: () => T, ok: (value: T) => boolean): Promise<T> {
  let last: T | undefined;
  let error: unknown = null;
  const start = Date.now();
  while (Date.now() - start < SEEN_WITHIN) {
    try {
      last = read();
      error = null;
      if (ok(last)) return last;
    } catch (e) {
      error = e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (last === undefined) throw error ?? new Error("nothing read");
  return last;
}

/** A scraped label's value, whether or not a target label of the same name shadowed it. */
function own(metric: Record<string, string> | undefined, label: string): string | undefined {
  return metric?.[`exported_${label}`] ?? metric?.[label];
}

