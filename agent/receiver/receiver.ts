// The scraper's trap receiver: SNMP listeners (net-snmp) -> authenticate and decode -> identity
// check -> FleetState -> outputs (/metrics, file_sd, Alertmanager, one JSON log line per
// notification). Never dies on a datagram: everything a datagram can cause is counted and logged.
import { createSocket } from "node:dgram";
import { createServer, type Server } from "node:http";
import snmp from "net-snmp";
import type { Config } from "../config";
import type { Logger } from "../log";
import { findSocket } from "../probes/localapi";
import { DEFAULT_BASE_OID, oidTree, type OidTree } from "../snmp/oid-tree";
import { toNetSnmpUser } from "../snmp/usm";
import { AlertTracker, desiredAlerts } from "./alerts";
import { AlertmanagerSender } from "./alertmanager";
import { writeFileAtomic } from "./atomic-write";
import { fileSdGroups, renderFileSd } from "./file-sd";
import { renderFleetMetrics } from "./fleet-metrics";
import { FleetState, type FleetOptions } from "./fleet-state";
import { FleetStore } from "./fleet-store";
import { checkIdentity, canonicalAddress, type IdentityVerdict, type WhoisResult } from "./identity";
import { parseHostPort, parseListenAddress, type ListenAddress } from "./listen-address";
import { LogLimiter } from "./log-limiter";
import { withNameCache } from "./mib-names";
import { ReceiverMetrics, type AuthFailure } from "./metrics";
import { toNotification, type Notification } from "./notification";
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

const USM_STATS = "1.3.6.1.6.3.15.1.1.";
const RECV_BUFFER_BYTES = 8 * 1024 * 1024;

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

function listenError(address: ListenAddress, error: NodeJS.ErrnoException): Error {
  const hint =
    error.code === "EADDRINUSE"
      ? " (another trap receiver, such as snmptrapd, holds the port: stop it with `systemctl stop snmptrapd`, or change receiver.listen)"
      : error.code === "EACCES"
        ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE: run it as the packaged service, or set receiver.listen to a higher port)"
        : error.code === "EADDRNOTAVAIL"
          ? " (no interface has that address: check receiver.listen)"
          : "";
  return new Error(`cannot listen on ${address.text}: ${error.code ?? error.message}${hint}`);
}

/** Classifies an error net-snmp reports for a datagram. */
function classify(error: any): { kind: "auth"; reason: AuthFailure } | { kind: "decode"; detail: string } {
  const message = String(error?.message ?? "");
  if (error?.name === "RequestFailedError") {
    if (message.startsWith("Local community not found")) return { kind: "auth", reason: "unknown_community" };
    if (message.startsWith("Local user not found")) return { kind: "auth", reason: "unknown_user" };
    if (/requires (authentication|privacy)/.test(message)) return { kind: "auth", reason: "unauthenticated" };
  }
  if (error?.name === "ResponseInvalidError") {
    if (error.code === snmp.ResponseInvalidCode?.EAuthFailure || error.code === 5) return { kind: "auth", reason: "wrong_digest" };
    if (error.code === snmp.ResponseInvalidCode?.ECouldNotDecrypt || error.code === 4) return { kind: "auth", reason: "decrypt_failed" };
  }
  // Only our own words go to the log: net-snmp's messages can carry digests or key material.
  const inner = error?.error?.message ? String(error.error.message).slice(0, 120) : "";
  if (error?.name === "ProcessingError") return { kind: "decode", detail: inner ? `not a decodable SNMP message: ${inner}` : "not a decodable SNMP message" };
  if (error?.name === "RequestInvalidError") return { kind: "decode", detail: message.slice(0, 120) };
  return { kind: "decode", detail: `${error?.name ?? "error"}: ${message.slice(0, 120)}` };
}

/**
 * net-snmp remembers every localized v3 key by (protocol, password, engine ID) forever. Accepting
 * v3 traps from any engine ID means anyone who knows a user name can grow that cache with made-up
 * engine IDs, so it is emptied when it gets large (it only saves a hash per message).
 */
function boundKeyCache(max = 10_000): void {
  const auth = (snmp as unknown as { Authentication?: { authToKeyCache?: Record<string, unknown> } }).Authentication;
  const cache = auth?.authToKeyCache;
  if (!cache) return;
  let n = 0;
  for (const _ in cache) if (++n > max) break;
  if (n > max) auth!.authToKeyCache = {};
}

export class TrapReceiver {
  readonly fleet: FleetState;
  readonly metrics: ReceiverMetrics;
  tree: OidTree;
  private config: Config;
  private readonly store: FleetStore;
  private readonly alerts: AlertTracker;
  private readonly alertSender: AlertmanagerSender;
  private readonly limiter: LogLimiter;
  private whois: Whois;
  private snmpReceiver: any = null;
  private listeners: ListenAddress[] = [];
  private recvBufferBytes: number[] = [];
  private http: Server | null = null;
  private tick: NodeJS.Timeout | null = null;
  private lastFileSdKey: string | null = null;
  private lastFileSdPath: string | null = null;
  private lastAlertSendMs = 0;
  private outputGeneration = -1;
  private stopped = false;

  private constructor(
    private readonly options: ReceiverOptions,
    public log: Logger,
  ) {
    this.config = options.config;
    this.tree = withNameCache(oidTree(options.baseOid ?? configuredBaseOid(this.config)));
    this.fleet = new FleetState(fleetOptions(this.config, options), Date.now());
    this.store = new FleetStore(this.config.receiver.state, this.fleet, log, options.stateDebounceMs ?? 2000);
    const resendMs = options.alertResendMs ?? 60_000;
    this.alerts = new AlertTracker({ resendMs, resolvedResendForMs: 15 * 60_000 });
    this.alertSender = new AlertmanagerSender(this.config.receiver.alertmanager, log);
    this.limiter = new LogLimiter(() => this.log);
    this.whois = new Whois({ socket: findSocket(this.config.tailscale.socket) });
    this.metrics = new ReceiverMetrics(() => this.fleet, {
      whoisErrors: () => this.whois.errors,
      alertSends: () => ({ sent: this.alertSender.sent, failed: this.alertSender.failures }),
    });
  }

  static async start(options: ReceiverOptions): Promise<TrapReceiver> {
    const receiver = new TrapReceiver(options, options.log);
    receiver.store.load();
    try {
      await receiver.openListeners(receiver.config);
      await receiver.openMetrics(receiver.config.receiver.metrics);
    } catch (error) {
      await receiver.closeListeners();
      await receiver.closeMetrics();
      throw error;
    }
    receiver.refreshOutputs(true);
    const tickMs = options.tickMs ?? 1000;
    receiver.tick = setInterval(() => receiver.refreshOutputs(false), tickMs);
    receiver.log.info(
      {
        listen: receiver.listeners.map((l) => l.text),
        recvBufferBytes: receiver.recvBufferBytes,
        metrics: receiver.config.receiver.metrics,
        fileSd: receiver.config.receiver.fileSd,
        alertmanager: receiver.config.receiver.alertmanager || null,
        whois: receiver.whois.enabled,
        communities: receiver.config.receiver.communities.length,
        users: receiver.config.receiver.users.map((u) => u.name),
        nodes: receiver.fleet.nodes.size,
      },
      "receiver started",
    );
    return receiver;
  }

  /** The UDP ports the listeners bound, for tests and logs. */
  get listenAddresses(): ListenAddress[] {
    return this.listeners;
  }

  get metricsPort(): number {
    const address = this.http?.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  // ---- listeners ---------------------------------------------------------------------------

  private authorize(config: Config): void {
    const authorizer = this.snmpReceiver.getAuthorizer();
    for (const community of [...authorizer.getCommunities()]) authorizer.deleteCommunity(community);
    for (const user of [...authorizer.getUsers()]) authorizer.deleteUser(user.name);
    for (const community of config.receiver.communities) authorizer.addCommunity(community);
    for (const user of config.receiver.users) authorizer.addUser(toNetSnmpUser(user));
  }

  private async openListeners(config: Config): Promise<void> {
    const addresses = config.receiver.listen.map(parseListenAddress);
    // Linux's IPv6 sockets take IPv4 too unless told not to, so "udp6:[::]:162" next to
    // "udp:0.0.0.0:162" would fail with EADDRINUSE: an IPv6 listener is IPv6-only when an IPv4
    // listener shares its port, and dual-stack when it is alone.
    const v6only = addresses.map((a) => a.transport === "udp6" && addresses.some((b) => b.transport === "udp4" && b.port === a.port));
    let created = 0;
    const dgramModule = {
      createSocket: (type: "udp4" | "udp6") => createSocket({ type, ipv6Only: v6only[created++] ?? false }),
    };
    const receiver = snmp.createReceiver(
      { sockets: addresses.map((a) => ({ transport: a.transport, address: a.address, port: a.port })), includeAuthentication: true, dgramModule },
      (error: any, data: any) => this.onMessage(error, data),
    );
    this.snmpReceiver = receiver;
    this.listeners = addresses;
    this.authorize(config);
    // Count every datagram, and notice net-snmp's USM reports to informs from unknown users or
    // with wrong digests: net-snmp answers those itself and does not call back.
    const originalSend = receiver.listener.send.bind(receiver.listener);
    receiver.listener.send = (message: any, rinfo: any, socket: any) => {
      const report = message?.pdu?.type === snmp.PduType.Report ? String(message.pdu.varbinds?.[0]?.oid ?? "") : "";
      if (report.startsWith(USM_STATS)) {
        const kind = report.slice(USM_STATS.length).split(".")[0];
        const reason: AuthFailure | null = kind === "3" ? "unknown_user" : kind === "5" ? "wrong_digest" : kind === "1" ? "unauthenticated" : kind === "6" ? "decrypt_failed" : null;
        if (reason) this.authFailure(reason, rinfo, message?.msgSecurityParameters?.msgUserName);
      }
      originalSend(message, rinfo, socket);
    };
    const sockets = Object.values(receiver.listener.sockets) as import("node:dgram").Socket[];
    await Promise.all(
      sockets.map(
        (socket, i) =>
          new Promise<void>((resolve, reject) => {
            const onError = (error: NodeJS.ErrnoException) => reject(listenError(addresses[i], error));
            socket.once("error", onError);
            socket.once("listening", () => {
              socket.off("error", onError);
              // A storm of replays after an outage arrives at once: a deep socket buffer absorbs
              // it while the event loop catches up. The kernel caps this at net.core.rmem_max.
              try {
                socket.setRecvBufferSize(RECV_BUFFER_BYTES);
              } catch {
                /* keep the default buffer */
              }
              resolve();
            });
            // net-snmp's own handler throws on some datagrams outside its try (re-encoding a
            // mutated inform for the acknowledgement): run it under our guard instead.
            socket.removeAllListeners("message");
            socket.on("message", (buffer: Buffer, rinfo: { address: string; port: number }) => {
              this.metrics.datagrams.inc();
              try {
                receiver.onMsg(socket, buffer, rinfo);
              } catch (error) {
                this.metrics.decodeErrors.inc();
                this.limiter.warn("decode", { source: canonicalAddress(rinfo.address), sourcePort: rinfo.port, problem: `cannot process: ${String((error as Error)?.message ?? error).slice(0, 120)}` }, "dropped a datagram that is not a usable SNMP notification");
              }
            });
          }),
      ),
    );
    // Ask for the real ports (a listen address may say port 0 in the future; logs show them).
    this.listeners = addresses.map((a, i) => ({ ...a, port: (sockets[i].address() as { port: number }).port }));
    this.recvBufferBytes = sockets.map((s) => {
      try {
        return s.getRecvBufferSize();
      } catch {
        return 0;
      }
    });
  }

  private closeListeners(): Promise<void> {
    const receiver = this.snmpReceiver;
    this.snmpReceiver = null;
    if (!receiver) return Promise.resolve();
    const sockets = Object.values(receiver.listener.sockets ?? {}) as import("node:dgram").Socket[];
    return Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            try {
              socket.close(() => resolve());
            } catch {
              resolve();
            }
          }),
      ),
    ).then(() => undefined);
  }

  // ---- datagrams ---------------------------------------------------------------------------

  private authFailure(reason: AuthFailure, rinfo: { address?: string; port?: number } | undefined, user?: unknown): void {
    this.metrics.authFailures.inc({ reason });
    this.limiter.warn(
      `auth:${reason}`,
      { source: rinfo?.address ? canonicalAddress(rinfo.address) : null, sourcePort: rinfo?.port ?? null, reason, ...(typeof user === "string" && user ? { user } : {}) },
      reason === "unknown_community"
        ? "dropped a notification with a community not in receiver.communities"
        : reason === "unknown_user"
          ? "dropped a v3 notification from a user not in receiver.users"
          : reason === "unauthenticated"
            ? "dropped a v3 notification without the authentication or privacy its user requires"
            : reason === "wrong_digest"
              ? "dropped a v3 notification whose digest does not match (wrong authKey on the sender?)"
              : "dropped a v3 notification that did not decrypt (wrong privKey or privProtocol on the sender?)",
    );
  }

  private onMessage(error: any, data: any): void {
    try {
      if (error) {
        const rinfo = error.rinfo as { address: string; port: number } | undefined;
        if (!rinfo) {
          this.log.error({ err: String(error?.message ?? error) }, "listener socket error");
          return;
        }
        const c = classify(error);
        if (c.kind === "auth") {
          this.authFailure(c.reason, rinfo, error?.name === "ResponseInvalidError" ? error?.info?.user?.name : undefined);
        } else {
          this.metrics.decodeErrors.inc();
          this.limiter.warn("decode", { source: canonicalAddress(rinfo.address), sourcePort: rinfo.port, problem: c.detail }, "dropped a datagram that is not a usable SNMP notification");
        }
        return;
      }
      let n: Notification;
      try {
        n = toNotification(data, this.tree);
      } catch (e) {
        this.metrics.decodeErrors.inc();
        this.limiter.warn("decode", { source: canonicalAddress(data?.rinfo?.address ?? ""), problem: (e as Error).message }, "dropped a datagram that is not a usable SNMP notification");
        return;
      }
      if (n.version === "3" && !n.user) {
        // net-snmp lets an empty user name through as noAuthNoPriv (it is how discovery works).
        this.authFailure("unauthenticated", data.rinfo);
        return;
      }
      this.metrics.received.inc({ version: n.version, pdu: n.pdu, mib: n.edgeAgent ? "edge_agent" : "other" });
      if (!n.edgeAgent) {
        this.logOther(n);
        return;
      }
      if (!this.whois.enabled) {
        this.applyVerified(n, { kind: "unavailable", error: "no tailscaled socket" });
      } else {
        this.whois.lookup(n.source.address, n.source.port).then(
          (who) => this.applyVerified(n, who),
          (e: Error) => this.applyVerified(n, { kind: "unavailable", error: e.message }),
        );
      }
    } catch (unexpected) {
      // A bug must not take the receiver down; say so loudly instead.
      this.metrics.decodeErrors.inc();
      this.log.error({ err: (unexpected as Error).stack ?? String(unexpected) }, "unexpected error handling a datagram");
    }
  }

  private base(n: Notification): Record<string, unknown> {
    return {
      source: canonicalAddress(n.source.address),
      sourcePort: n.source.port,
      version: n.version,
      pdu: n.pdu,
      ...(n.user ? { user: n.user } : {}),
      trapOid: n.trapOid,
      trapName: n.trapName,
    };
  }

  private logOther(n: Notification): void {
    this.log.info({ ...this.base(n), upTime: n.upTimeCentiseconds, varbinds: n.varbinds }, `notification ${n.trapName ?? n.trapOid ?? "(no snmpTrapOID)"}`);
  }

  private applyVerified(n: Notification, who: WhoisResult): void {
    if (this.stopped) return;
    const edge = n.edgeAgent!;
    const v = edge.values;
    const claim = {
      tailnetName: typeof v.edgeAgentTailnetName === "string" ? v.edgeAgentTailnetName : "",
      hostName: typeof v.edgeAgentHostName === "string" ? v.edgeAgentHostName : "",
      addresses: typeof v.edgeAgentTailnetAddresses === "string" ? v.edgeAgentTailnetAddresses.split(",").map((s) => s.trim()).filter(Boolean) : [],
    };
    const verdict: IdentityVerdict = checkIdentity(n.source.address, claim, this.config.receiver.allowSources, who);
    const fields = { ...this.base(n), event: edge.def.event, sequence: v.edgeAgentNotificationSequence ?? null, summary: v.edgeAgentEventSummary ?? "" };
    if (!verdict.ok) {
      this.metrics.dropped.inc({ reason: verdict.reason });
      this.limiter.warn("identity", { ...fields, claimedNode: claim.tailnetName || claim.hostName, reason: verdict.reason, ...(who.kind === "unavailable" && this.whois.enabled ? { whoisError: who.error } : {}) }, `dropped: ${verdict.detail}`);
      return;
    }
    const result = this.fleet.apply(v, edge.def.event, Date.now(), canonicalAddress(n.source.address));
    switch (result.kind) {
      case "invalid":
        this.metrics.dropped.inc({ reason: "invalid" });
        this.limiter.warn("invalid", fields, `dropped an EDGE-AGENT-MIB notification: ${result.problem}`);
        return;
      case "full":
        this.metrics.dropped.inc({ reason: "fleet_full" });
        this.limiter.warn("full", { ...fields, node: result.node, maxNodes: this.fleet.options.maxNodes }, "dropped a notification from a new node: the fleet is at its node limit");
        return;
      case "duplicate":
        this.metrics.dropped.inc({ reason: "duplicate" });
        this.log.debug({ ...fields, node: result.node, outcome: "duplicate" }, "duplicate notification dropped");
        return;
      case "late":
        this.metrics.late.inc();
        this.log.info({ ...fields, node: result.node, outcome: "late", identity: verdict.how, objects: v }, `${result.node}: ${edge.def.event} (late, older than the node's latest state)`);
        return;
      case "new":
        this.log.info(
          { ...fields, node: result.node, outcome: result.firstSeen ? "first" : result.counterReset ? "counter-reset" : "applied", identity: verdict.how, objects: v },
          `${result.node}: ${edge.def.event}${v.edgeAgentEventSummary ? ` — ${v.edgeAgentEventSummary}` : ""}`,
        );
        this.store.changed();
        return;
    }
  }

  // ---- outputs -----------------------------------------------------------------------------

  private refreshOutputs(force: boolean): void {
    try {
      const now = Date.now();
      const { becameStale, forgotten } = this.fleet.sweep(now);
      for (const node of becameStale) {
        const r = this.fleet.nodes.get(node)!;
        this.log.warn({ node, lastSeen: new Date(r.lastSeenMs).toISOString(), staleAfterSeconds: this.fleet.staleAfterMs(r) / 1000 }, `${node}: stale, no notification within ${this.fleet.options.staleAfterHeartbeats} heartbeat intervals`);
      }
      for (const node of forgotten) this.log.info({ node }, `${node}: forgotten, not heard from for too long`);
      this.limiter.flush(now);
      boundKeyCache();
      const changed = force || this.fleet.generation !== this.outputGeneration;
      this.outputGeneration = this.fleet.generation;
      if (changed) {
        this.writeFileSd();
        this.store.changed();
      }
      if (this.config.receiver.alertmanager) {
        const due = now - this.lastAlertSendMs >= this.alerts.options.resendMs;
        const alertsChanged = (changed || due) && this.alerts.update(desiredAlerts(this.fleet), now);
        if (alertsChanged || due) {
          this.lastAlertSendMs = now;
          this.alertSender.send(() => this.alerts.payload(Date.now()));
        }
      }
    } catch (error) {
      this.log.error({ err: (error as Error).stack }, "unexpected error refreshing outputs");
    }
  }

  private writeFileSd(): void {
    const path = this.config.receiver.fileSd;
    if (!path) return;
    const groups = fileSdGroups(this.fleet);
    const key = renderFileSd(groups);
    if (key === this.lastFileSdKey && path === this.lastFileSdPath) return;
    try {
      writeFileAtomic(path, key);
      this.lastFileSdKey = key;
      this.lastFileSdPath = path;
      this.log.debug({ path, targets: groups.length }, "file_sd written");
    } catch (error) {
      this.metrics.writeFailures.inc({ file: "file_sd" });
      this.limiter.warn("file_sd", { path, err: (error as Error).message }, "cannot write the file_sd file (check receiver.fileSd and that its directory is writable)");
    }
  }

  // ---- metrics server ----------------------------------------------------------------------

  private openMetrics(address: string): Promise<void> {
    const { host, port } = parseHostPort(address);
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { Allow: "GET, HEAD" }).end("method not allowed\n");
        return;
      }
      if (path === "/metrics") {
        this.metrics.registry.metrics().then(
          (text) => res.writeHead(200, { "Content-Type": this.metrics.registry.contentType }).end(req.method === "HEAD" ? undefined : text + renderFleetMetrics(this.fleet)),
          (error: Error) => res.writeHead(500).end(`cannot render metrics: ${error.message}\n`),
        );
        return;
      }
      if (path === "/") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end('<html><head><title>edge-agent receiver</title></head><body><h1>edge-agent receiver</h1><p><a href="/metrics">Metrics</a></p></body></html>\n');
        return;
      }
      res.writeHead(404).end("not found\n");
    });
    this.http = server;
    return new Promise((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => {
        this.http = null;
        reject(new Error(`cannot serve metrics on ${address}: ${error.code ?? error.message}${error.code === "EADDRINUSE" ? " (the port is taken: change receiver.metrics)" : ""}`));
      });
      server.listen(port, host, () => resolve());
    });
  }

  private closeMetrics(): Promise<void> {
    const server = this.http;
    this.http = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Applies a new config, keeping the fleet; on failure the old config stays in force. */
  async reload(next: Config): Promise<void> {
    const old = this.config;
    const listenChanged = JSON.stringify(old.receiver.listen) !== JSON.stringify(next.receiver.listen);
    const metricsChanged = old.receiver.metrics !== next.receiver.metrics;
    if (listenChanged) {
      await this.closeListeners();
      try {
        await this.openListeners(next);
      } catch (error) {
        await this.closeListeners();
        await this.openListeners(old);
        throw error;
      }
    } else {
      this.authorize(next);
    }
    if (metricsChanged) {
      await this.closeMetrics();
      try {
        await this.openMetrics(next.receiver.metrics);
      } catch (error) {
        await this.openMetrics(old.receiver.metrics);
        if (listenChanged) {
          await this.closeListeners();
          await this.openListeners(old);
        }
        this.authorize(old);
        throw error;
      }
    }
    this.config = next;
    if (!this.options.baseOid && configuredBaseOid(next) !== this.tree.base) this.tree = withNameCache(oidTree(configuredBaseOid(next)));
    this.fleet.options = fleetOptions(next, this.options);
    this.store.setPath(next.receiver.state);
    this.alertSender.url = next.receiver.alertmanager;
    this.whois = new Whois({ socket: findSocket(next.tailscale.socket) });
    this.log.level = next.log.level;
    this.refreshOutputs(true);
  }

  /** Stops listening and saves the fleet; safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tick) clearInterval(this.tick);
    await this.closeListeners();
    await this.closeMetrics();
    this.store.save();
  }
}
