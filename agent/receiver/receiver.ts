// The scraper's trap receiver, put together from its parts: listeners (net-snmp, engine gate) ->
// ingest (authenticate, decode, limits, identity) -> FleetState -> outputs (file_sd, alerts,
// saved state) and the HTTP server (/metrics, the fleet page), beside the scraper's own tailnet
// peers (peers.ts: tagged nodes, silent or reporting, and notify-scraper verdicts). This file owns
// their lifecycle: start, reload on SIGHUP keeping the fleet, stop. Never dies on a datagram:
// everything one can cause is counted and logged.
import type { Config } from "../config";
import type { Logger } from "../log";
import { findSocket } from "../probes/localapi";
import { DEFAULT_BASE_OID, oidTree, type OidTree } from "../snmp/oid-tree";
import { AGENT_VERSION } from "../version";
import { removeStaleTemps } from "./atomic-write";
import { EngineGate } from "./engine-gate";
import { fileSdGroups, renderHttpSd } from "./file-sd";
import { renderFleetPage } from "./fleet-page";
import { FleetState, type FleetOptions } from "./fleet-state";
import { FleetStore } from "./fleet-store";
import { MetricsServer } from "./http";
import { HeartbeatLog } from "./heartbeat-log";
import { Ingest } from "./ingest";
import type { ListenAddress } from "./listen-address";
import { Listeners, type ListenerHandlers } from "./listeners";
import { LogLimiter } from "./log-limiter";
import { withNameCache } from "./mib-names";
import { ReceiverMetrics } from "./metrics";
import { MetricsPage } from "./metrics-page";
import { Outputs } from "./outputs";
import { renderPeerMetrics } from "./peer-metrics";
import { TailnetPeers } from "./peers";
import { RenderCache } from "./render-cache";
import { startupWarnings, tailscaledSocket } from "./startup-warnings";
import { Whois } from "./whois";

export interface ReceiverOptions {
  config: Config;
  log: Logger;
  /** EDGE-AGENT-MIB's root; the senders must use the same. */
  baseOid?: string;
  /** How often firing alerts are re-sent to Alertmanager. */
  alertResendMs?: number;
  /** How often staleness is checked and outputs refreshed. */
  tickMs?: number;
  stateDebounceMs?: number;
  /** Nodes not heard from for this long are forgotten. */
  forgetAfterMs?: number;
  maxNodes?: number;
}

/** `mib.baseOid` when the config has it (the key comes with the MIB's re-rooting), else the default root. */
function configuredBaseOid(config: Config): string {
  return (config as { mib?: { baseOid?: string } }).mib?.baseOid || DEFAULT_BASE_OID;
}

function fleetOptions(config: Config, options: ReceiverOptions): FleetOptions {
  return {
    defaultHeartbeatMs: config.run.heartbeatMs,
    staleAfterHeartbeats: config.receiver.staleAfterHeartbeats,
    forgetAfterMs: options.forgetAfterMs ?? 7 * 24 * 3_600_000,
    maxNodes: options.maxNodes ?? 100_000,
  };
}

export class TrapReceiver {
  readonly fleet: FleetState;
  readonly metrics: ReceiverMetrics;
  tree: OidTree;
  private config: Config;
  private readonly store: FleetStore;
  private readonly outputs: Outputs;
  private readonly limiter: LogLimiter;
  private readonly page: MetricsPage;
  private readonly fleetPage: RenderCache;
  /** The file_sd targets as Prometheus's http_sd reads them (/targets), for scrapers on other hosts. */
  private readonly targets: RenderCache;
  private readonly gate = new EngineGate();
  private readonly heartbeats = new HeartbeatLog();
  private readonly handlers: ListenerHandlers;
  private readonly peers: TailnetPeers;
  private whois: Whois;
  private listeners: Listeners | null = null;
  private http: MetricsServer | null = null;
  private tick: NodeJS.Timeout | null = null;
  private stopped = false;

  private constructor(
    private readonly options: ReceiverOptions,
    public log: Logger,
  ) {
    this.config = options.config;
    this.tree = withNameCache(oidTree(options.baseOid ?? configuredBaseOid(this.config)));
    this.fleet = new FleetState(fleetOptions(this.config, options), Date.now());
    this.store = new FleetStore(this.config.receiver.state, this.fleet, log, options.stateDebounceMs ?? 2000);
    this.limiter = new LogLimiter(() => this.log);
    this.whois = new Whois({ socket: findSocket(this.config.tailscale.socket) });
    this.metrics = new ReceiverMetrics(() => this.fleet, {
      whoisErrors: () => this.whois.errors,
      alertSends: () => ({ sent: this.outputs.alertSender.sent, failed: this.outputs.alertSender.failures }),
      fleetRenders: () => this.page.renders,
      stateSaves: () => ({ count: this.store.writes, lastMs: this.store.lastSaveMs }),
    });
    this.peers = new TailnetPeers(
      {
        config: () => this.config,
        log: () => this.log,
        limiter: this.limiter,
        fleet: this.fleet,
        registry: this.metrics.registry,
        // The tagged peers are targets too: outputs, pages and file_sd follow their changes.
        changed: () => this.fleet.outsideChange(),
      },
      this.fleet.startedAtMs,
    );
    this.outputs = new Outputs({
      config: () => this.config,
      log: () => this.log,
      fleet: this.fleet,
      store: this.store,
      metrics: this.metrics,
      limiter: this.limiter,
      heartbeats: this.heartbeats,
      alertResendMs: options.alertResendMs ?? 60_000,
      peers: this.peers,
    });
    this.page = new MetricsPage(
      this.fleet,
      this.metrics,
      1000,
      () => renderPeerMetrics(this.peers.coverage(Date.now()), this.config.receiver.nodeSeries, (node) => this.fleet.nodes.get(node)?.stale === true),
      () => this.config.receiver.nodeSeries,
    );
    this.fleetPage = new RenderCache(this.fleet, () =>
      renderFleetPage({ records: this.fleet.nodes.values(), silent: this.peers.coverage(Date.now()).filter((c) => c.silent).map((c) => c.node), nowMs: Date.now(), version: AGENT_VERSION, maxRows: 1000 }),
    );
    // The targets follow membership and reported state only, as the file_sd file does, not every heartbeat.
    const fleet = this.fleet;
    this.targets = new RenderCache({ get generation() { return fleet.stateGeneration; } }, () => renderHttpSd(fileSdGroups(fleet, this.peers.unreported())));
    const ingest = new Ingest({
      config: () => this.config,
      tree: () => this.tree,
      whois: () => this.whois,
      log: () => this.log,
      fleet: this.fleet,
      metrics: this.metrics,
      limiter: this.limiter,
      heartbeats: this.heartbeats,
      changed: () => this.store.changed(),
      stopped: () => this.stopped,
    });
    this.handlers = {
      receive: (error, data) => ingest.receive(error, data),
      report: (kind, rinfo, user) => {
        if (kind === "unknown_user" || kind === "wrong_digest" || kind === "unauthenticated" || kind === "decrypt_failed") ingest.authFailure(kind, rinfo, user);
      },
      notification: (n) => ingest.accept(n),
      crashed: (rinfo, problem) => ingest.decodeError(rinfo, problem),
      tree: () => this.tree,
      metrics: this.metrics,
      limiter: this.limiter,
    };
  }

  static async start(options: ReceiverOptions): Promise<TrapReceiver> {
    const receiver = new TrapReceiver(options, options.log);
    const { config, log } = receiver;
    for (const path of [config.receiver.state, config.receiver.fileSd].filter(Boolean)) {
      const removed = removeStaleTemps(path);
      if (removed.length) log.info({ path, removed }, "removed temporary files an earlier run left behind");
    }
    receiver.store.load();
    try {
      receiver.listeners = await Listeners.open(config, receiver.gate, receiver.handlers);
      receiver.http = await MetricsServer.open(config.receiver.metrics, receiver.page, receiver.fleetPage, receiver.targets);
    } catch (error) {
      await receiver.listeners?.close();
      throw error;
    }
    receiver.outputs.refresh(true);
    void receiver.peers.start();
    receiver.tick = setInterval(() => {
      receiver.outputs.refresh(false);
      receiver.page.release();
      receiver.fleetPage.release();
      receiver.targets.release();
    }, options.tickMs ?? 1000);
    log.info(
      {
        listen: receiver.listenAddresses.map((l) => l.text),
        recvBufferBytes: receiver.listeners.recvBufferBytes,
        metrics: config.receiver.metrics,
        fileSd: config.receiver.fileSd,
        alertmanager: config.receiver.alertmanager || null,
        whois: receiver.whois.enabled,
        nodeTag: receiver.whois.enabled ? config.receiver.nodeTag : null,
        communities: config.receiver.communities.length,
        users: config.receiver.users.map((u) => u.name),
        nodes: receiver.fleet.nodes.size,
      },
      "receiver started",
    );
    receiver.warnAboutConfig();
    return receiver;
  }

  private warnAboutConfig(): void {
    for (const w of startupWarnings(this.config, tailscaledSocket(this.config) !== null)) this.log.warn({ warning: w.code, fix: w.fix }, w.text);
  }

  /** The UDP addresses the listeners bound, for tests and logs. */
  get listenAddresses(): ListenAddress[] {
    return this.listeners?.addresses ?? [];
  }

  get metricsPort(): number {
    return this.http?.port ?? 0;
  }

  /** Applies a new config, keeping the fleet; on failure the old config stays in force. */
  async reload(next: Config): Promise<void> {
    const old = this.config;
    const listenChanged = JSON.stringify(old.receiver.listen) !== JSON.stringify(next.receiver.listen);
    const metricsChanged = old.receiver.metrics !== next.receiver.metrics;
    if (listenChanged) {
      await this.listeners?.close();
      try {
        this.listeners = await Listeners.open(next, this.gate, this.handlers);
      } catch (error) {
        this.listeners = await Listeners.open(old, this.gate, this.handlers);
        throw error;
      }
    } else {
      this.listeners?.authorize(next);
    }
    if (metricsChanged) {
      await this.http?.close();
      try {
        this.http = await MetricsServer.open(next.receiver.metrics, this.page, this.fleetPage, this.targets);
      } catch (error) {
        this.http = await MetricsServer.open(old.receiver.metrics, this.page, this.fleetPage, this.targets);
        if (listenChanged) {
          await this.listeners?.close();
          this.listeners = await Listeners.open(old, this.gate, this.handlers);
        }
        this.listeners?.authorize(old);
        throw error;
      }
    }
    this.config = next;
    // The cached /metrics text was rendered for the old choice of per-node series.
    if (old.receiver.nodeSeries !== next.receiver.nodeSeries) this.fleet.outsideChange();
    if (!this.options.baseOid && configuredBaseOid(next) !== this.tree.base) this.tree = withNameCache(oidTree(configuredBaseOid(next)));
    this.fleet.options = fleetOptions(next, this.options);
    this.store.setPath(next.receiver.state);
    this.whois = new Whois({ socket: findSocket(next.tailscale.socket) });
    this.log.level = next.log.level;
    this.warnAboutConfig();
    void this.peers.start();
    this.outputs.refresh(true);
  }

  /** Stops listening and saves the fleet; safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tick) clearInterval(this.tick);
    this.peers.stop();
    await this.listeners?.close();
    await this.http?.close();
    await this.store.flush();
  }
}
