// FleetState -> the alerts that should be firing, and the bookkeeping Alertmanager expects of a
// client: firing alerts re-sent periodically with an endsAt a few periods ahead (so they expire
// if the receiver dies), and resolved alerts sent with endsAt set to when they cleared, repeated
// for a while in case a send was lost. Pure: time is passed in, the HTTP client is elsewhere.
import type { FleetState, NodeRecord } from "./fleet-state";

export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PostableAlert extends Alert {
  startsAt: string;
  endsAt: string;
}

const FIREWALL_CHECKS: { object: string; check: string; words: string }[] = [
  { object: "edgeAgentFirewallInboundIpv6", check: "inbound-ipv6", words: "new inbound IPv6 UDP to" },
  { object: "edgeAgentFirewallInboundIpv4", check: "inbound-ipv4", words: "new inbound IPv4 UDP to" },
  { object: "edgeAgentFirewallOutboundIpv6", check: "outbound-ipv6", words: "new outbound IPv6 UDP from" },
  { object: "edgeAgentFirewallOutboundIpv4", check: "outbound-ipv4", words: "new outbound IPv4 UDP from" },
  { object: "edgeAgentFirewallForwardIpv6", check: "forward-ipv6", words: "forwarded IPv6 UDP for the configured prefixes to" },
];

function nodeAlerts(record: NodeRecord, fleet: FleetState): Alert[] {
  const v = record.values;
  const node = record.node;
  const out: Alert[] = [];
  const port = typeof v.edgeAgentFirewallPort === "number" && v.edgeAgentFirewallPort > 0 ? v.edgeAgentFirewallPort : "?";
  for (const f of FIREWALL_CHECKS) {
    if (v[f.object] !== "drop") continue;
    out.push({
      labels: { alertname: "EdgeFirewallBlocksTailscale", node, check: f.check, severity: "warning" },
      annotations: {
        summary: `${node}: the firewall drops ${f.words} tailscaled's port ${port}`,
        description: `Tailscale cannot go direct through this rule and falls back to a DERP relay. Run \`edge-agent firewall check\` on ${node} to see the rule that decides it.`,
      },
    });
  }
  const path = v.edgeAgentScraperPath;
  if (path === "relay" || path === "peerRelay") {
    const via = typeof v.edgeAgentScraperEndpoint === "string" && v.edgeAgentScraperEndpoint ? ` via ${v.edgeAgentScraperEndpoint}` : "";
    out.push({
      labels: { alertname: "EdgeScraperPathRelayed", node, severity: "warning" },
      annotations: {
        summary: `${node}: reaches the scraper through a ${path === "relay" ? "DERP relay" : "peer relay"}${via}, not directly`,
        description: `Run \`edge-agent doctor\` and \`tailscale netcheck\` on ${node} to see why the direct path fails (firewall, missing global IPv6 /64, NAT).`,
      },
    });
  }
  for (const [object, service] of [["edgeAgentNodeExporterUp", "node_exporter"], ["edgeAgentSnmpdUp", "snmpd"]] as const) {
    if (v[object] !== false) continue;
    out.push({
      labels: { alertname: "EdgeServiceDown", node, service, severity: "warning" },
      annotations: {
        summary: `${node}: ${service} does not answer`,
        description: `Check it on ${node} with \`systemctl status ${service === "node_exporter" ? "prometheus-node-exporter" : "snmpd"}\`; \`edge-agent doctor\` says what the agent sees.`,
      },
    });
  }
  if (record.stale) {
    const minutes = Math.round((fleet.staleAfterMs(record) / 60_000) * 10) / 10;
    out.push({
      labels: { alertname: "EdgeNodeStale", node, severity: "critical" },
      annotations: {
        summary: `${node}: no notification for more than ${minutes} minutes (last heard ${new Date(record.lastSeenMs).toISOString()})`,
        description: `Its heartbeats stopped arriving. Check that edge-agent runs on ${node} (\`systemctl status edge-agent\`), that it reaches the scraper on 162/udp (\`edge-agent trap --test\`), and that the tailnet policy allows it.`,
      },
    });
  }
  return out;
}

export function alertKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

/** Every alert that should be firing now, keyed by its label set. */
export function desiredAlerts(fleet: FleetState): Map<string, Alert> {
  const out = new Map<string, Alert>();
  for (const record of fleet.nodes.values()) for (const alert of nodeAlerts(record, fleet)) out.set(alertKey(alert.labels), alert);
  return out;
}

interface Tracked {
  alert: Alert;
  startsAtMs: number;
  resolvedAtMs: number | null;
}

export interface AlertTrackerOptions {
  /** How often firing alerts are re-sent. */
  resendMs: number;
  /** How long a resolved alert keeps being sent. */
  resolvedResendForMs: number;
}

export class AlertTracker {
  private readonly tracked = new Map<string, Tracked>();

  constructor(readonly options: AlertTrackerOptions) {}

  /** Takes the alerts that should fire now; returns true when something started or cleared. */
  update(desired: Map<string, Alert>, nowMs: number): boolean {
    let changed = false;
    for (const [key, alert] of desired) {
      const t = this.tracked.get(key);
      if (!t || t.resolvedAtMs !== null) {
        this.tracked.set(key, { alert, startsAtMs: nowMs, resolvedAtMs: null });
        changed = true;
      } else {
        if (JSON.stringify(t.alert.annotations) !== JSON.stringify(alert.annotations)) changed = true;
        t.alert = alert;
      }
    }
    for (const [key, t] of this.tracked) {
      if (desired.has(key)) continue;
      if (t.resolvedAtMs === null) {
        t.resolvedAtMs = nowMs;
        changed = true;
      } else if (nowMs - t.resolvedAtMs > this.options.resolvedResendForMs) {
        this.tracked.delete(key);
      }
    }
    return changed;
  }

  firing(): Alert[] {
    return [...this.tracked.values()].filter((t) => t.resolvedAtMs === null).map((t) => t.alert);
  }

  /** What to POST to /api/v2/alerts now. */
  payload(nowMs: number): PostableAlert[] {
    // Like Prometheus: a firing alert expires on its own if four re-sends in a row are missed.
    const endsAhead = new Date(nowMs + 4 * this.options.resendMs).toISOString();
    return [...this.tracked.values()].map((t) => ({
      labels: t.alert.labels,
      annotations: t.alert.annotations,
      startsAt: new Date(t.startsAtMs).toISOString(),
      endsAt: t.resolvedAtMs === null ? endsAhead : new Date(t.resolvedAtMs).toISOString(),
    }));
  }
}
