// FleetState -> the alerts that should be firing, and the bookkeeping Alertmanager expects of a
// client: firing alerts re-sent periodically with an endsAt a few periods ahead (so they expire
// if the receiver dies), and resolved alerts sent with endsAt set to when they cleared, repeated
// for a while in case a send was lost. Pure: time is passed in, the HTTP client is elsewhere.
import { PARTS } from "../state/parts";
import type { FleetState, NodeRecord } from "./fleet-state";

export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PostableAlert extends Alert {
  startsAt: string;
  endsAt: string;
}

function nodeAlerts(record: NodeRecord, fleet: FleetState): Alert[] {
  // Each part of NodeState's alerts on what the node last reported, then the receiver's own.
  const out: Alert[] = PARTS.flatMap((part) => part.alerts(record.values, record.node));
  const node = record.node;
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
