// The receiver's own metrics in a private prom-client registry (never the process-wide default
// one): counters of what arrived and what was refused, the fleet's size, the build, and
// prom-client's process_* collectors (CPU, memory, file descriptors, start time: the receiver is
// a long-running daemon of its own; the node's textfile never carries them, node-exporter does).
// The per-node series are rendered by fleet-metrics.ts and served after these. Names follow
// Prometheus conventions: edge_fleet_ prefix, base units, _total counters, a _build_info gauge.
// Every labelled counter has its series at 0 from the start, so rate() and increase() see the
// first event and a dashboard shows 0 rather than "no data".
// One module each instead of prom-client's index (see agent/prom-client-lib.d.ts).
import Counter from "prom-client/lib/counter";
import Gauge from "prom-client/lib/gauge";
import processCpuTotal from "prom-client/lib/metrics/processCpuTotal";
import processMaxFileDescriptors from "prom-client/lib/metrics/processMaxFileDescriptors";
import processOpenFileDescriptors from "prom-client/lib/metrics/processOpenFileDescriptors";
import processResidentMemory from "prom-client/lib/metrics/osMemoryHeap";
import processStartTime from "prom-client/lib/metrics/processStartTime";
import Registry from "prom-client/lib/registry";
import { AGENT_VERSION } from "../version";
import type { FleetState } from "./fleet-state";

export const DROP_REASONS = ["duplicate", "identity_mismatch", "source_not_allowed", "unverified", "invalid", "oversize", "fleet_full"] as const;
export type DropReason = (typeof DROP_REASONS)[number];
export type AuthFailure = "unknown_community" | "unknown_user" | "wrong_digest" | "decrypt_failed" | "unauthenticated";

/** The (version, pdu) pairs SNMP has: v1 has no inform. */
const NOTIFICATION_KINDS = [["1", "trap"], ["2c", "trap"], ["2c", "inform"], ["3", "trap"], ["3", "inform"]] as const;
const MIBS = ["edge_agent", "other"] as const;

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
  readonly rateLimited: Counter<"what">;
  readonly tests: Counter<string>;
  /**
   * Notifications counted but not yet added to `received`: prom-client's labelled inc() builds
   * and looks up a key from the labels each time, which per notification was ~5% of the
   * receiver's CPU; these are added when the counter is read.
   */
  private readonly pendingReceived = NOTIFICATION_KINDS.flatMap(([version, pdu]) => MIBS.map((mib) => ({ labels: { version, pdu, mib }, count: 0 })));
  /** version -> pdu -> where its edge_agent entry is in pendingReceived (other follows it). */
  private readonly pendingIndex: Record<string, Record<string, number>> = {};

  constructor(fleet: () => FleetState, extra: { whoisErrors: () => number; alertSends: () => { sent: number; failed: number }; fleetRenders: () => number; stateSaves?: () => { count: number; lastMs: number } }) {
    const registers = [this.registry];
    this.datagrams = new Counter({ name: "edge_fleet_receiver_datagrams_total", help: "UDP datagrams read by the receiver's listeners, valid or not.", registers });
    const pending = this.pendingReceived;
    this.received = new Counter({
      name: "edge_fleet_receiver_notifications_received_total",
      help: "Notifications that decoded and authenticated, by SNMP version, PDU (trap or inform) and MIB (edge_agent or other).",
      labelNames: ["version", "pdu", "mib"],
      registers,
      collect() {
        for (const p of pending)
          if (p.count > 0) {
            this.inc(p.labels, p.count);
            p.count = 0;
          }
      },
    });
    this.dropped = new Counter({ name: "edge_fleet_receiver_notifications_dropped_total", help: "EDGE-AGENT-MIB notifications received but not applied to the fleet state, by reason.", labelNames: ["reason"], registers });
    this.late = new Counter({ name: "edge_fleet_receiver_notifications_late_total", help: "Notifications that arrived after a newer one from the same node (logged, not applied).", registers });
    this.authFailures = new Counter({ name: "edge_fleet_receiver_auth_failures_total", help: "Datagrams refused for their community or v3 credentials, by reason.", labelNames: ["reason"], registers });
    this.decodeErrors = new Counter({ name: "edge_fleet_receiver_decode_errors_total", help: "Datagrams that are not SNMP messages the receiver can decode.", registers });
    this.writeFailures = new Counter({ name: "edge_fleet_receiver_write_failures_total", help: "Failed writes of the receiver's files, by file (file_sd).", labelNames: ["file"], registers });
    this.reloads = new Counter({ name: "edge_fleet_receiver_config_reloads_total", help: "Configuration reloads on SIGHUP, by result.", labelNames: ["result"], registers });
    this.rateLimited = new Counter({ name: "edge_fleet_receiver_rate_limited_total", help: "SNMPv3 datagrams dropped unprocessed because their source sent too many from unknown engine IDs (v3_engine) or discovery requests (v3_discovery).", labelNames: ["what"], registers });
    this.tests = new Counter({ name: "edge_fleet_receiver_test_notifications_total", help: "edgeAgentTest notifications (edge-agent trap --test) received: logged and answered, never applied to the fleet.", registers });
    for (const reason of DROP_REASONS) this.dropped.inc({ reason }, 0);
    for (const what of ["v3_engine", "v3_discovery"]) this.rateLimited.inc({ what }, 0);
    for (const reason of ["unknown_community", "unknown_user", "wrong_digest", "decrypt_failed", "unauthenticated"]) this.authFailures.inc({ reason }, 0);
    for (const [version, pdu] of NOTIFICATION_KINDS) for (const mib of MIBS) this.received.inc({ version, pdu, mib }, 0);
    this.pendingReceived.forEach((p, i) => {
      if (p.labels.mib === MIBS[0]) (this.pendingIndex[p.labels.version] ??= {})[p.labels.pdu] = i;
    });
    // The state file's failed saves are logged by fleet-store.ts, not counted here yet.
    this.writeFailures.inc({ file: "file_sd" }, 0);
    for (const result of ["success", "failure"]) this.reloads.inc({ result }, 0);
    for (const collector of [processCpuTotal, processStartTime, processResidentMemory, processOpenFileDescriptors, processMaxFileDescriptors]) collector(this.registry);

    new Gauge({
      name: "edge_fleet_build_info",
      help: "Always 1; the receiver's edge-agent version and the Node.js it runs on.",
      labelNames: ["version", "nodejs_version"],
      registers,
      collect() {
        this.reset();
        this.set({ version: AGENT_VERSION, nodejs_version: process.version }, 1);
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
      name: "edge_fleet_receiver_metrics_renders_total",
      help: "Renderings of the per-node series for /metrics: one per fleet change at most, shared by every scrape until the next.",
      registers,
      collect() {
        this.reset();
        this.inc(extra.fleetRenders());
      },
    });
    new Gauge({
      name: "edge_fleet_receiver_state_save_seconds",
      help: "How long the last save of receiver.state took (written in pieces, without holding up the listeners).",
      registers,
      collect() {
        this.set((extra.stateSaves?.().lastMs ?? 0) / 1000);
      },
    });
    new Counter({
      name: "edge_fleet_receiver_state_saves_total",
      help: "Saves of receiver.state (after a change, at most one per 2 s, or per 0.6 ms per node when longer, up to 60 s; and at shutdown).",
      registers,
      collect() {
        this.reset();
        this.inc(extra.stateSaves?.().count ?? 0);
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
  }

  /** One notification for edge_fleet_receiver_notifications_received_total. */
  countReceived(version: string, pdu: string, mib: (typeof MIBS)[number]): void {
    const at = this.pendingIndex[version]?.[pdu];
    if (at === undefined) this.received.inc({ version, pdu, mib });
    else this.pendingReceived[mib === MIBS[0] ? at : at + 1].count++;
  }
}
