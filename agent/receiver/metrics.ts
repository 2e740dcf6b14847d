// The receiver's /metrics: a private prom-client registry (never the process-wide default one)
// with the fleet's per-node series, computed from FleetState at scrape time, and the receiver's
// own counters. Names follow Prometheus conventions: edge_fleet_ prefix, base units, _total
// counters, an _info gauge carrying the labels that describe a node.
import { Counter, Gauge, Registry } from "prom-client";
import { AGENT_VERSION } from "../version";
import { pathLabel } from "./file-sd";
import type { FleetState } from "./fleet-state";

export type DropReason = "duplicate" | "identity_mismatch" | "source_not_allowed" | "invalid" | "fleet_full";
export type AuthFailure = "unknown_community" | "unknown_user" | "wrong_digest" | "decrypt_failed" | "unauthenticated";

const FIREWALL: [string, string][] = [
  ["edgeAgentFirewallInboundIpv6", "inbound-ipv6"],
  ["edgeAgentFirewallInboundIpv4", "inbound-ipv4"],
  ["edgeAgentFirewallOutboundIpv6", "outbound-ipv6"],
  ["edgeAgentFirewallOutboundIpv4", "outbound-ipv4"],
  ["edgeAgentFirewallForwardIpv6", "forward-ipv6"],
];

const str = (value: unknown): string => (typeof value === "string" ? value : "");

export class ReceiverMetrics {
  readonly registry = new Registry();
  readonly datagrams: Counter<string>;
  readonly received: Counter<"version" | "pdu" | "mib">;
  readonly dropped: Counter<"reason">;
  readonly late: Counter<string>;
  readonly authFailures: Counter<"reason">;
  readonly decodeErrors: Counter<string>;
  readonly writeFailures: Counter<"file">;
  readonly reloads: Counter<"result">;

  constructor(fleet: () => FleetState, extra: { whoisErrors: () => number; alertSends: () => { sent: number; failed: number } }) {
    const registers = [this.registry];
    this.datagrams = new Counter({ name: "edge_fleet_receiver_datagrams_total", help: "UDP datagrams read by the receiver's listeners, valid or not.", registers });
    this.received = new Counter({ name: "edge_fleet_receiver_notifications_received_total", help: "Notifications that decoded and authenticated, by SNMP version, PDU (trap or inform) and MIB (edge_agent or other).", labelNames: ["version", "pdu", "mib"], registers });
    this.dropped = new Counter({ name: "edge_fleet_receiver_notifications_dropped_total", help: "EDGE-AGENT-MIB notifications received but not applied to the fleet state, by reason.", labelNames: ["reason"], registers });
    this.late = new Counter({ name: "edge_fleet_receiver_notifications_late_total", help: "Notifications that arrived after a newer one from the same node (logged, not applied).", registers });
    this.authFailures = new Counter({ name: "edge_fleet_receiver_auth_failures_total", help: "Datagrams refused for their community or v3 credentials, by reason.", labelNames: ["reason"], registers });
    this.decodeErrors = new Counter({ name: "edge_fleet_receiver_decode_errors_total", help: "Datagrams that are not SNMP messages the receiver can decode.", registers });
    this.writeFailures = new Counter({ name: "edge_fleet_receiver_write_failures_total", help: "Failed writes of the receiver's files, by file (state or file_sd).", labelNames: ["file"], registers });
    this.reloads = new Counter({ name: "edge_fleet_receiver_config_reloads_total", help: "Configuration reloads on SIGHUP, by result.", labelNames: ["result"], registers });
    for (const reason of ["duplicate", "identity_mismatch", "source_not_allowed", "invalid", "fleet_full"]) this.dropped.inc({ reason }, 0);
    for (const reason of ["unknown_community", "unknown_user", "wrong_digest", "decrypt_failed", "unauthenticated"]) this.authFailures.inc({ reason }, 0);

    new Gauge({
      name: "edge_fleet_receiver_info",
      help: "The receiver's edge-agent version.",
      labelNames: ["version"],
      registers,
      collect() {
        this.reset();
        this.set({ version: AGENT_VERSION }, 1);
      },
    });
    new Counter({
      name: "edge_fleet_receiver_whois_errors_total",
      help: "tailscaled LocalAPI whois lookups that failed (not counting 'no such node' answers).",
      registers,
      collect() {
        this.reset();
        this.inc(extra.whoisErrors());
      },
    });
    new Counter({
      name: "edge_fleet_receiver_alertmanager_posts_total",
      help: "POSTs of alerts to Alertmanager, by result.",
      labelNames: ["result"],
      registers,
      collect() {
        this.reset();
        const { sent, failed } = extra.alertSends();
        this.inc({ result: "success" }, sent);
        this.inc({ result: "failure" }, failed);
      },
    });
    new Gauge({
      name: "edge_fleet_nodes",
      help: "Nodes the receiver knows about, by whether they are stale.",
      labelNames: ["stale"],
      registers,
      collect() {
        this.reset();
        let stale = 0;
        for (const r of fleet().nodes.values()) if (r.stale) stale++;
        this.set({ stale: "true" }, stale);
        this.set({ stale: "false" }, fleet().nodes.size - stale);
      },
    });
    const perNode = <L extends string>(name: string, help: string, labelNames: L[], fill: (g: Gauge<L>, fleet: FleetState) => void) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          fill(this, fleet());
        },
      });
    perNode("edge_fleet_node_up", "1 while the node reports within its heartbeat window, 0 once it is stale.", ["node"], (g, f) => {
      for (const r of f.nodes.values()) g.set({ node: r.node }, r.stale ? 0 : 1);
    });
    perNode("edge_fleet_node_last_seen_timestamp_seconds", "When the receiver last accepted a notification from the node.", ["node"], (g, f) => {
      for (const r of f.nodes.values()) g.set({ node: r.node }, r.lastSeenMs / 1000);
    });
    perNode("edge_fleet_node_last_sequence", "The sequence number of the node's latest notification.", ["node"], (g, f) => {
      for (const r of f.nodes.values()) g.set({ node: r.node }, r.lastSequence);
    });
    perNode("edge_fleet_node_heartbeat_interval_seconds", "The node's heartbeat interval: learned from its heartbeats, else run.heartbeat.", ["node"], (g, f) => {
      for (const r of f.nodes.values()) g.set({ node: r.node }, f.heartbeatIntervalMs(r) / 1000);
    });
    perNode("edge_fleet_node_info", "Always 1; the labels describe the node as it last reported.", ["node", "tailnet_name", "hostname", "tags", "prefix", "prefix_in_allocation", "tailnet_state", "version"], (g, f) => {
      for (const r of f.nodes.values()) {
        const v = r.values;
        g.set({
          node: r.node,
          tailnet_name: str(v.edgeAgentTailnetName),
          hostname: str(v.edgeAgentHostName),
          tags: str(v.edgeAgentTailnetTags),
          prefix: str(v.edgeAgentPrimaryPrefix),
          prefix_in_allocation: str(v.edgeAgentPrefixInAllocation) || "unknown",
          tailnet_state: str(v.edgeAgentTailnetState),
          version: str(v.edgeAgentVersion),
        }, 1);
      }
    });
    perNode("edge_fleet_node_scraper_path", "Always 1; path says how the node reaches the scraper (direct, relay, peer-relay, idle, offline, unknown), family the direct path's address family.", ["node", "path", "family"], (g, f) => {
      for (const r of f.nodes.values()) g.set({ node: r.node, path: pathLabel(r.values), family: str(r.values.edgeAgentScraperFamily) || "none" }, 1);
    });
    perNode("edge_fleet_node_firewall_verdict", "Always 1; verdict is the node's firewall verdict (accept, drop, unknown) on tailscaled's UDP port for each check.", ["node", "check", "verdict"], (g, f) => {
      for (const r of f.nodes.values()) for (const [object, check] of FIREWALL) g.set({ node: r.node, check, verdict: str(r.values[object]) || "unknown" }, 1);
    });
    perNode("edge_fleet_node_service_up", "1 when the node reported the service answering, else 0.", ["node", "service"], (g, f) => {
      for (const r of f.nodes.values()) {
        g.set({ node: r.node, service: "node_exporter" }, r.values.edgeAgentNodeExporterUp === true ? 1 : 0);
        g.set({ node: r.node, service: "snmpd" }, r.values.edgeAgentSnmpdUp === true ? 1 : 0);
      }
    });
  }
}
