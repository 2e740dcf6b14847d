// `edge-agent run`'s engine: schedules probe cycles (every run.interval, and at once when the
// kernel's IPv6 addresses, the nftables ruleset or tailscaled's state change), diffs each
// NodeState against the last one, hands the changes to the event sink (the notifier) and
// refreshes the two passive outputs, the textfile metrics and the AgentX objects. Cycles never
// overlap: a trigger during a cycle is remembered and served right after it. Outputs failing
// never stop the others.
import type { Config } from "../config";
import { diff, problemsAtStart, type StateEvent } from "../diff";
import type { Logger } from "../log";
import { watchAddresses } from "./address-watcher";
import type { ChangePoller } from "./change-poller";
import { NodeMetrics, type SinkStats } from "../metrics-node";
import { IF_INET6 } from "../probes/addresses";
import { askService, collectLocalState, collectNodeState } from "../probes/collect";
import { confirmDown, type AskService } from "./confirm-down";
import type { LiveRuleset } from "../probes/firewall";
import { errorText, withDeadline } from "../probes/deadline";
import { AgentxSubagent } from "../snmp/agentx";
import { oidTree, type OidTree } from "../snmp/oid-tree";
import { stateObjects } from "../snmp/state-objects";
import { RulesetCache } from "./ruleset-cache";
import { RulesetWatcher } from "./ruleset-watcher";
import type { NodeState } from "../state/node-state";
import type { ServiceName, ServicesState } from "../state/services";
import { watchTailnet } from "./tailnet-watcher";
import { TextfileWriter } from "./textfile";

/**
 * Where events go. The notifier (agent/snmp/notifier.ts) implements it; tests pass
 * their own. notify() must not block: the sink queues and sends on its own time.
 */
export interface EventSink {
  start(): Promise<void>;
  notify(event: StateEvent, state: NodeState): void;
  flush(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
  stats(): SinkStats;
}

/**
 * The seam for flap damping: events pass through it between diff() and the sink (logs and the
 * events_total counter see every change; the sink only what the filter lets through). The
 * default lets everything through.
 */
export type EventFilter = (events: StateEvent[], state: NodeState, nowMs: number) => StateEvent[];

export interface DaemonOptions {
  /** Builds the sink for a config; called at start and again when a reload changes `notifications`. */
  createSink: (config: Config) => EventSink;
  filter?: EventFilter;
  /** The full probe; defaults to collectNodeState with a disco ping. `readRuleset` is the daemon's cached reader. */
  collect?: (config: Config, extras: CollectExtras) => Promise<NodeState>;
  /** Asks one service again (confirm-down.ts); defaults to the probes' askService. */
  askService?: (config: Config, service: ServiceName, tailnetIps: string[]) => Promise<ServicesState[ServiceName]>;
  /** Where the kernel's IPv6 addresses are read (and watched); tests point it into a namespace. */
  ifInet6Path?: string;
  tree?: OidTree;
  /** Poll periods, for benchmarks; the defaults are the product's. */
  addressPollMs?: number;
  tailnetPollMs?: number;
  /** The command that reports nftables changes; tests give their own (`ip netns exec ...`). */
  rulesetMonitor?: string[];
  /** How the live ruleset is read (through the cache); tests read a namespace's. */
  readRuleset?: (timeoutMs: number) => Promise<LiveRuleset>;
  /** The local probe (addresses and firewall anew, the rest of `prev` kept); defaults to collectLocalState. */
  collectLocal?: (config: Config, prev: NodeState, extras: CollectExtras) => Promise<NodeState>;
}

export interface CollectExtras {
  readRuleset: (timeoutMs: number) => Promise<LiveRuleset>;
}

/**
 * A full cycle runs every probe. A local one re-reads only what this host's kernel says, the IPv6
 * addresses and the firewall, and carries the tailnet and services over from the last snapshot,
 * so an address or ruleset change is reported without waiting for a disco ping or a slow service.
 */
type CycleKind = "full" | "local";

export class Daemon {
  private config: Config;
  private sink: EventSink;
  private readonly metrics = new NodeMetrics();
  private readonly textfile: TextfileWriter;
  private agentx: AgentxSubagent | null = null;
  private tree: OidTree;
  private readonly filter: EventFilter;
  private readonly collect: (config: Config, extras: CollectExtras) => Promise<NodeState>;
  private readonly collectLocal: (config: Config, prev: NodeState, extras: CollectExtras) => Promise<NodeState>;
  private readonly askService: AskService;
  private readonly readRuleset = (timeoutMs: number): Promise<LiveRuleset> => this.rulesets.get(timeoutMs);
  private readonly ifInet6Path: string;
  private addressWatcher: ChangePoller | null = null;
  private tailnetWatcher: ChangePoller | null = null;
  private readonly rulesetWatcher: RulesetWatcher;
  private readonly rulesets: RulesetCache;
  private intervalTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private pending: CycleKind | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  private prev: NodeState | null = null;
  /** How many cycles ran, by kind: for tests and the benchmark. */
  readonly cycles = { full: 0, local: 0 };

  constructor(
    config: Config,
    private readonly logger: Logger,
    private readonly options: DaemonOptions,
  ) {
    this.config = config;
    // The notifier roots its tree at mib.baseOid too: AgentX and notifications must agree.
    this.tree = options.tree ?? oidTree(config.mib.baseOid);
    this.filter = options.filter ?? ((events) => events);
    this.ifInet6Path = options.ifInet6Path ?? IF_INET6;
    this.rulesetWatcher = new RulesetWatcher(logger, () => this.requestCycle("local"), options.rulesetMonitor);
    this.rulesets = new RulesetCache(this.rulesetWatcher, options.readRuleset);
    this.collect = options.collect ?? ((c, extras) => collectNodeState(c, { ping: true, ifInet6Path: this.ifInet6Path, readRuleset: extras.readRuleset }));
    const askAgain = options.askService ?? askService;
    this.askService = ((service: ServiceName, ips: string[]) => askAgain(this.config, service, ips)) as AskService;
    this.collectLocal = options.collectLocal ?? ((c, prev, extras) => collectLocalState(c, prev, { ifInet6Path: this.ifInet6Path, readRuleset: extras.readRuleset }));
    this.textfile = new TextfileWriter(config.textfile.directory, logger);
    this.sink = options.createSink(config);
  }

  /** How often the live ruleset was read, and how often a cycle reused the last read. */
  get rulesetReads(): { read: number; cached: number } {
    return { ...this.rulesets.counts };
  }

  /** The last snapshot, or null before the first cycle. */
  get state(): NodeState | null {
    return this.prev;
  }

  async start(): Promise<void> {
    await this.startSink(this.sink);
    this.applyAgentx();
    this.addressWatcher = watchAddresses(this.ifInet6Path, () => this.requestCycle("local"), this.options.addressPollMs);
    this.addressWatcher.start();
    this.rulesetWatcher.start();
    this.startTailnetWatcher();
    this.startHeartbeat();
    this.requestCycle("full");
    await this.running;
  }

  /** Resolves once no cycle is running or pending (tests and benchmarks wait on it). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Asks for a cycle; one already running finishes first, and several requests become one. */
  requestCycle(kind: CycleKind): void {
    if (this.stopping) return;
    this.pending = this.pending === "full" || kind === "full" ? "full" : "local";
    if (!this.running) this.running = this.drain();
  }

  /**
   * Applies a new config (SIGHUP). Whatever changed is restarted; the rest keeps running. Throws,
   * changing nothing, when the new notifier cannot be built from it.
   */
  async reload(config: Config): Promise<void> {
    const old = this.config;
    const baseOidChanged = old.mib.baseOid !== config.mib.baseOid;
    const notificationsChanged = baseOidChanged || JSON.stringify([old.notifications, old.scraper]) !== JSON.stringify([config.notifications, config.scraper]);
    const nextSink = notificationsChanged ? this.options.createSink(config) : null;
    this.config = config;
    if (baseOidChanged && !this.options.tree) {
      // Registered under the old root: a new session registers the new one.
      this.tree = oidTree(config.mib.baseOid);
      void this.agentx?.close();
      this.agentx = null;
    }
    this.textfile.setDirectory(config.textfile.directory);
    this.applyAgentx();
    if (JSON.stringify(old.tailscale) !== JSON.stringify(config.tailscale)) {
      this.tailnetWatcher?.stop();
      this.startTailnetWatcher();
    }
    if (old.run.heartbeatMs !== config.run.heartbeatMs) this.startHeartbeat();
    if (nextSink) {
      // Events keep going to the old sink while it flushes (it still delivers or persists them);
      // the new one takes over only once started, so nothing reaches a sink that refuses it.
      // Started after the old one closed, it loads whatever the old one left in the outbox.
      const previous = this.sink;
      await previous.flush(2000).catch(() => undefined);
      await previous.close().catch(() => undefined);
      await this.startSink(nextSink);
      this.sink = nextSink;
      this.metrics.sinkReplaced();
    }
    this.requestCycle("full");
  }

  /**
   * Stops within `timeoutMs`: no new cycles, the one running gets what time is left, then the
   * sink flushes its outbox and closes, and the AgentX session is closed.
   */
  async stop(timeoutMs = 4000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.stopping = true;
    this.pending = null;
    for (const timer of [this.intervalTimer, this.heartbeatTimer]) if (timer) clearTimeout(timer);
    this.addressWatcher?.stop();
    this.tailnetWatcher?.stop();
    this.rulesetWatcher.stop();
    if (this.running) await withDeadline(this.running, Math.max(1, deadline - Date.now() - 1500), "the running cycle").catch(() => undefined);
    await this.sink.flush(Math.max(1, deadline - Date.now() - 700)).catch((error) => this.logger.warn({ error: errorText(error) }, "could not flush the notification outbox"));
    await withDeadline(this.sink.close(), Math.max(1, deadline - Date.now() - 500), "closing the notifier").catch(() => undefined);
    await this.agentx?.close();
  }

  private async startSink(sink: EventSink): Promise<void> {
    try {
      await sink.start();
    } catch (error) {
      // The sink keeps its outbox; the daemon's other outputs must go on regardless.
      this.logger.error({ error: errorText(error) }, `notifications cannot start: ${errorText(error)}`);
    }
  }

  private applyAgentx(): void {
    const { enabled, master } = this.config.agentx;
    if (!enabled) {
      if (this.agentx) void this.agentx.close();
      this.agentx = null;
      return;
    }
    if (!this.agentx) {
      // A local cycle rewrites the textfile, so edge_agent_agentx_registered follows at once.
      this.agentx = new AgentxSubagent(master, this.tree, this.logger, () => this.requestCycle("local"));
      if (this.prev) this.agentx.update(stateObjects(this.prev));
      this.agentx.start();
    } else {
      this.agentx.setMaster(master);
    }
  }

  private startTailnetWatcher(): void {
    this.tailnetWatcher = watchTailnet(this.config.tailscale.socket, () => this.requestCycle("full"), this.options.tailnetPollMs);
    this.tailnetWatcher.start();
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (!this.prev || this.stopping) return;
      const event: StateEvent = { kind: "heartbeat", summary: `heartbeat from agent ${this.prev.agent.version}` };
      this.metrics.countEvent("heartbeat");
      this.logger.debug({ event: event.kind }, event.summary);
      this.toSink(event, this.prev);
    }, this.config.run.heartbeatMs);
  }

  private scheduleInterval(): void {
    if (this.intervalTimer) clearTimeout(this.intervalTimer);
    if (this.stopping) return;
    this.intervalTimer = setTimeout(() => this.requestCycle("full"), this.config.run.intervalMs);
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending && !this.stopping) {
        const kind = this.pending;
        this.pending = null;
        await this.cycle(kind);
      }
    } finally {
      this.running = null;
    }
  }

  private async cycle(requested: CycleKind): Promise<void> {
    const started = Date.now();
    const kind: CycleKind = this.prev ? requested : "full";
    let next: NodeState;
    try {
      const extras: CollectExtras = { readRuleset: this.readRuleset };
      // A local cycle carries the services over; a full one asks again any that just went down.
      next = kind === "local" && this.prev ? await this.collectLocal(this.config, this.prev, extras) : await confirmDown(this.prev, await this.collect(this.config, extras), this.askService);
    } catch (error) {
      this.logger.error({ error: errorText(error) }, `probe cycle failed: ${errorText(error)}`);
      if (kind === "full") this.scheduleInterval();
      return;
    }
    this.cycles[kind]++;
    const events = diff(this.prev, next);
    this.prev = next;
    for (const event of events) {
      this.metrics.countEvent(event.kind);
      this.logger.info({ event: event.kind, ...(event.service ? { service: event.service } : {}) }, event.summary);
      if (event.kind === "agentStarted") for (const problem of problemsAtStart(next)) this.logger.warn(problem);
    }
    for (const event of this.filter(events, next, Date.now())) this.toSink(event, next);
    this.agentx?.update(stateObjects(next));
    const ended = Date.now();
    this.metrics.update({ state: next, cycleEndedAtMs: ended, cycleDurationMs: ended - started, sink: this.safeStats(), agentxRegistered: this.agentx ? this.agentx.registered : null });
    await this.textfile.write(await this.metrics.render());
    this.logger.debug({ cycle: kind, ms: ended - started, events: events.length }, "cycle done");
    if (kind === "full") this.scheduleInterval();
  }

  private toSink(event: StateEvent, state: NodeState): void {
    try {
      this.sink.notify(event, state);
    } catch (error) {
      this.logger.error({ event: event.kind, error: errorText(error) }, `could not queue the ${event.kind} notification: ${errorText(error)}`);
    }
  }

  private safeStats(): SinkStats | null {
    try {
      return this.sink.stats();
    } catch {
      return null;
    }
  }
}
