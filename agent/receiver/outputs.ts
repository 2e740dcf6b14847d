// Keeps the receiver's outputs in step with FleetState, once per tick: marks nodes stale and
// forgets long-gone ones (logging both), rewrites the file_sd file when its content changed,
// asks for a save of the fleet, and sends alerts to Alertmanager when they change or are due.
import type { Config } from "../config";
import type { Logger } from "../log";
import { boundKeyCache } from "../snmp/net-snmp-internals";
import { AlertTracker, alertKey, desiredAlerts } from "./alerts";
import { AlertmanagerSender } from "./alertmanager";
import { writeFileAtomic } from "./atomic-write";
import { fileSdGroups, renderFileSd } from "./file-sd";
import type { FleetState } from "./fleet-state";
import type { FleetStore } from "./fleet-store";
import type { HeartbeatLog } from "./heartbeat-log";
import type { LogLimiter } from "./log-limiter";
import type { ReceiverMetrics } from "./metrics";
import type { TailnetPeers } from "./peers";
import { staleCause } from "./silent-cause";

export interface OutputsContext {
  config: () => Config;
  log: () => Logger;
  fleet: FleetState;
  store: FleetStore;
  metrics: ReceiverMetrics;
  limiter: LogLimiter;
  heartbeats: HeartbeatLog;
  alertResendMs: number;
  /** Tagged peers and notify verdicts from the scraper's tailscaled. */
  peers?: TailnetPeers;
}

export class Outputs {
  readonly alertSender: AlertmanagerSender;
  private readonly alerts: AlertTracker;
  private lastFileSd: { path: string; text: string } | null = null;
  private lastAlertSendMs = 0;
  private generation = -1;
  private stateGeneration = -1;

  constructor(private readonly ctx: OutputsContext) {
    this.alerts = new AlertTracker({ resendMs: ctx.alertResendMs, resolvedResendForMs: 15 * 60_000 });
    this.alertSender = new AlertmanagerSender(ctx.config().receiver.alertmanager, ctx.log());
  }

  refresh(force: boolean): void {
    const { fleet, log } = this.ctx;
    try {
      const now = Date.now();
      const { becameStale, forgotten } = fleet.sweep(now);
      for (const node of becameStale) {
        const r = fleet.nodes.get(node)!;
        log().warn({ node, lastSeen: new Date(r.lastSeenMs).toISOString(), staleAfterSeconds: fleet.staleAfterMs(r) / 1000 }, `${node}: stale, no notification within ${fleet.options.staleAfterHeartbeats} heartbeat intervals`);
      }
      for (const node of forgotten) log().info({ node }, `${node}: forgotten, not heard from for too long`);
      this.ctx.peers?.sweep(now);
      this.ctx.limiter.flush(now);
      this.ctx.heartbeats.flush(log(), now);
      boundKeyCache();
      const changed = force || fleet.generation !== this.generation;
      this.generation = fleet.generation;
      if (changed) this.ctx.store.changed();
      // The targets follow membership and reported state only (FleetState.stateGeneration).
      // A failed write is tried again at the next tick.
      if ((force || fleet.stateGeneration !== this.stateGeneration) && this.writeFileSd()) this.stateGeneration = fleet.stateGeneration;
      this.alertSender.url = this.ctx.config().receiver.alertmanager;
      if (this.alertSender.url) {
        const due = now - this.lastAlertSendMs >= this.alerts.options.resendMs;
        const alertsChanged = (changed || due) && this.alerts.update(this.desiredAlerts(now), now);
        if (alertsChanged || due) {
          this.lastAlertSendMs = now;
          this.alertSender.send(() => this.alerts.payload(Date.now()));
        }
      }
    } catch (error) {
      log().error({ err: (error as Error).stack }, "unexpected error refreshing outputs");
    }
  }

  /** The fleet's alerts (a stale node's naming the scraper's filter when it drops udp/162) and the silent tagged peers'. */
  private desiredAlerts(nowMs: number): ReturnType<typeof desiredAlerts> {
    const desired = desiredAlerts(this.ctx.fleet);
    const peers = this.ctx.peers;
    if (!peers) return desired;
    for (const [key, alert] of desired) if (alert.labels.alertname === "EdgeNodeStale") desired.set(key, staleCause(alert, peers.nodeVerdict(alert.labels.node), peers.tags));
    for (const alert of peers.alerts(nowMs)) desired.set(alertKey(alert.labels), alert);
    return desired;
  }

  /** False when the write failed. */
  private writeFileSd(): boolean {
    const path = this.ctx.config().receiver.fileSd;
    if (!path) return true;
    const groups = fileSdGroups(this.ctx.fleet, this.ctx.peers?.unreported());
    const text = renderFileSd(groups);
    if (this.lastFileSd?.text === text && this.lastFileSd.path === path) return true;
    try {
      const created = writeFileAtomic(path, text);
      if (created) this.ctx.log().info({ path, created }, `created ${created} for receiver.fileSd`);
      this.lastFileSd = { path, text };
      this.ctx.log().debug({ path, targets: groups.length }, "file_sd written");
      return true;
    } catch (error) {
      this.ctx.metrics.writeFailures.inc({ file: "file_sd" });
      this.ctx.limiter.warn("file_sd", { path, err: (error as Error).message }, "cannot write the file_sd file (check receiver.fileSd and that its directory is writable)");
      return false;
    }
  }
}
