// NodeState (plus the daemon's own counters) -> the edge_agent_* metrics, in a private prom-client
// registry. Never the default registry: node-exporter already exports process metrics, and
// prom-client's defaults in a textfile would collide with them. No I/O here; textfile.ts writes.
// One module each instead of prom-client's index (see agent/prom-client-lib.d.ts).
import Counter from "prom-client/lib/counter";
import Gauge from "prom-client/lib/gauge";
import Registry from "prom-client/lib/registry";
import type { EventKind } from "./diff";
import { runningTailnet, type NodeState, type ScraperPath } from "./state";

/** What the event sink (the notifier) reports about itself; see daemon.ts's EventSink. */
export interface SinkStats {
  /** Dropped from the (one) outbox because it was full. */
  dropped: number;
  /** Delivery counts for each notifications target, labelled `target` in the metrics. */
  targets: readonly SinkTargetStats[];
}

export interface SinkTargetStats {
  target: string;
  sent: number;
  acknowledged: number;
  queued: number;
  failed: number;
}

export interface MetricsInput {
  state: NodeState;
  /** When the cycle that produced `state` ended (ms since the epoch) and how long it took. */
  cycleEndedAtMs: number;
  cycleDurationMs: number;
  sink: SinkStats | null;
  /** Whether the AgentX subagent is registered with snmpd; null when AgentX is disabled. */
  agentxRegistered: boolean | null;
}

const PATHS: readonly ScraperPath[] = ["direct", "relay", "peer-relay", "idle", "offline", "unknown"];
const VERDICTS = ["accept", "drop", "unknown"] as const;
const FIREWALL_CHECKS = ["inbound-ipv6", "inbound-ipv4", "outbound-ipv6", "outbound-ipv4", "forward-ipv6"];
const TARGET_COUNTERS = ["sent", "acknowledged", "failed"] as const;

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly g = {
    info: this.gauge("edge_agent_info", "The running edge-agent's version (always 1).", ["version"]),
    probeUp: this.gauge("edge_agent_probe_up", "Whether the last cycle could read a source (1) or it was unavailable (0).", ["probe"]),
    prefixInfo: this.gauge("edge_agent_ipv6_prefix_info", "A global IPv6 /64 on this host (always 1); in_allocation is true, false or unknown (no allocation configured).", ["prefix", "interface", "in_allocation", "primary"]),
    globalPrefixes: this.gauge("edge_agent_ipv6_global_prefixes", "How many global IPv6 /64s the host has.", []),
    primaryInAllocation: this.gauge("edge_agent_ipv6_primary_in_allocation", "Whether the primary /64 lies inside a configured allocation (absent when unknown).", []),
    tailnetInfo: this.gauge("edge_agent_tailnet_info", "tailscaled's state and this node's tailnet identity (always 1).", ["state", "dns_name", "tags", "version"]),
    tailnetRunning: this.gauge("edge_agent_tailnet_running", "Whether tailscaled's backend state is Running.", []),
    missingTags: this.gauge("edge_agent_tailnet_missing_tags", "How many of tailscale.expectedTags the node does not carry.", []),
    tailnetPort: this.gauge("edge_agent_tailnet_udp_port", "The UDP port tailscaled bound (absent when unknown).", []),
    scraperPath: this.gauge("edge_agent_scraper_path", "The path to the scraper, one-hot: 1 for the current path, 0 for the others.", ["path"]),
    scraperDirect: this.gauge("edge_agent_scraper_direct", "Whether the path to the scraper is direct UDP (not relayed).", []),
    scraperInfo: this.gauge("edge_agent_scraper_info", "The scraper peer and how it is reached (always 1); family is ipv6, ipv4 or none.", ["peer", "family", "relay"]),
    scraperLatency: this.gauge("edge_agent_scraper_latency_seconds", "Round-trip time of the last disco ping to the scraper (absent without an answer).", []),
    serviceUp: this.gauge("edge_agent_service_up", "Whether a local service answers on its configured address.", ["service"]),
    serviceTailnet: this.gauge("edge_agent_service_tailnet_reachable", "Whether a local service answers on the host's Tailscale IP (absent without one).", ["service"]),
    firewallPort: this.gauge("edge_agent_firewall_udp_port", "The UDP port the firewall verdicts are about.", []),
    firewallVerdict: this.gauge("edge_agent_firewall_verdict", "The firewall's verdict per check, one-hot over accept, drop and unknown.", ["check", "verdict"]),
    firewallAccepts: this.gauge("edge_agent_firewall_accepts", "Whether the firewall accepts tailscaled's UDP for a check (absent when undecided).", ["check"]),
    lastCycle: this.gauge("edge_agent_last_cycle_timestamp_seconds", "When the last probe cycle ended (Unix time); alert when it grows old.", []),
    cycleDuration: this.gauge("edge_agent_cycle_duration_seconds", "How long the last probe cycle took.", []),
    queued: this.gauge("edge_agent_notifications_queued", "Notifications waiting in the outbox for a target.", ["target"]),
    agentx: this.gauge("edge_agent_agentx_registered", "Whether the AgentX subagent is registered with the local snmpd (absent when disabled).", []),
  };
  private readonly targetCounters = Object.fromEntries(
    TARGET_COUNTERS.map((name) => [name, new Counter({ name: `edge_agent_notifications_${name}_total`, help: `Notifications ${name} since the agent started, by target.`, labelNames: ["target"], registers: [this.registry] })]),
  ) as Record<(typeof TARGET_COUNTERS)[number], Counter>;
  private readonly dropped = new Counter({ name: "edge_agent_notifications_dropped_total", help: "Notifications dropped from the full outbox since the agent started.", registers: [this.registry] });
  private readonly events = new Counter({ name: "edge_agent_events_total", help: "State changes seen since the agent started, by kind.", labelNames: ["kind"], registers: [this.registry] });
  /** The sink's last totals, so a counter only ever grows (a new sink after a reload starts at 0). */
  private lastSink: SinkStats | null = null;

  private gauge(name: string, help: string, labelNames: string[]): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  countEvent(kind: EventKind): void {
    this.events.inc({ kind });
  }

  /** Forget the sink's baseline: the next stats come from a new sink that counts from 0. */
  sinkReplaced(): void {
    this.lastSink = null;
  }

  /**
   * A gauge without labels always shows a sample once registered (0 after reset), so one whose
   * value is unknown this cycle leaves the registry until it is known again: absent, not 0.
   */
  private optional(gauge: Gauge, value: number | null): void {
    const name = (gauge as unknown as { name: string }).name;
    if (value === null) {
      if (this.registry.getSingleMetric(name)) this.registry.removeSingleMetric(name);
      return;
    }
    if (!this.registry.getSingleMetric(name)) this.registry.registerMetric(gauge);
    gauge.set(value);
  }

  update(input: MetricsInput): void {
    for (const gauge of Object.values(this.g)) gauge.reset();
    const { state } = input;
    const g = this.g;
    g.info.set({ version: state.agent.version }, 1);
    g.probeUp.set({ probe: "host" }, state.host.state === "ok" ? 1 : 0);
    g.probeUp.set({ probe: "ipv6" }, state.ipv6.state === "ok" ? 1 : 0);
    g.probeUp.set({ probe: "tailnet" }, state.tailnet.state === "unavailable" ? 0 : 1);
    if (state.firewall) g.probeUp.set({ probe: "firewall" }, state.firewall.state === "ok" ? 1 : 0);

    if (state.ipv6.state === "ok") {
      const ipv6 = state.ipv6;
      for (const p of ipv6.prefixes) {
        const inAllocation = p.inAllocation === null ? "unknown" : String(p.inAllocation);
        g.prefixInfo.set({ prefix: p.prefix, interface: p.interface, in_allocation: inAllocation, primary: String(p.prefix === ipv6.primary) }, 1);
      }
      g.globalPrefixes.set(ipv6.prefixes.length);
    }
    const primary = state.ipv6.state === "ok" ? state.ipv6.prefixes.find((p) => p.prefix === (state.ipv6 as { primary: string | null }).primary) : undefined;
    this.optional(g.primaryInAllocation, primary && primary.inAllocation !== null ? (primary.inAllocation ? 1 : 0) : null);

    const tailnet = runningTailnet(state.tailnet);
    g.missingTags.set(state.tailnet.missingTags.length);
    g.tailnetRunning.set(tailnet?.state === "Running" ? 1 : 0);
    const path: ScraperPath = tailnet?.scraper.path ?? "unknown";
    for (const p of PATHS) g.scraperPath.set({ path: p }, p === path ? 1 : 0);
    g.scraperDirect.set(path === "direct" ? 1 : 0);
    if (tailnet) {
      g.tailnetInfo.set({ state: tailnet.state, dns_name: tailnet.dnsName, tags: tailnet.tags.join(","), version: tailnet.version }, 1);
      const s = tailnet.scraper;
      g.scraperInfo.set({ peer: s.dnsName ?? s.hostname ?? "", family: s.family ?? "none", relay: s.relay ?? "" }, 1);
    } else {
      g.tailnetInfo.set({ state: "unavailable", dns_name: "", tags: "", version: "" }, 1);
    }

    this.optional(g.tailnetPort, tailnet?.port ?? null);
    this.optional(g.scraperLatency, tailnet && tailnet.scraper.latencyMs !== null ? tailnet.scraper.latencyMs / 1000 : null);

    for (const [service, s] of [["node-exporter", state.services.nodeExporter], ["snmpd", state.services.snmpd]] as const) {
      g.serviceUp.set({ service }, s.up ? 1 : 0);
      if (s.tailnetReachable !== null) g.serviceTailnet.set({ service }, s.tailnetReachable ? 1 : 0);
    }

    this.optional(g.firewallPort, state.firewall && state.firewall.state === "ok" ? state.firewall.port : null);
    if (state.firewall && state.firewall.state === "ok") {
      const checks = new Map(state.firewall.checks.map((c) => [c.id, c.verdict]));
      for (const check of new Set([...FIREWALL_CHECKS.filter((id) => checks.has(id)), ...checks.keys()])) {
        const verdict = checks.get(check) ?? "unknown";
        for (const v of VERDICTS) g.firewallVerdict.set({ check, verdict: v }, v === verdict ? 1 : 0);
        if (verdict !== "unknown") g.firewallAccepts.set({ check }, verdict === "accept" ? 1 : 0);
      }
    }

    g.lastCycle.set(input.cycleEndedAtMs / 1000);
    g.cycleDuration.set(input.cycleDurationMs / 1000);
    this.optional(g.agentx, input.agentxRegistered === null ? null : input.agentxRegistered ? 1 : 0);
    if (input.sink) this.countSink(input.sink);
  }

  private countSink(sink: SinkStats): void {
    const droppedDelta = sink.dropped - (this.lastSink?.dropped ?? 0);
    if (droppedDelta > 0) this.dropped.inc(droppedDelta);
    for (const t of sink.targets) {
      this.g.queued.set({ target: t.target }, t.queued);
      const last = this.lastSink?.targets.find((l) => l.target === t.target);
      for (const name of TARGET_COUNTERS) {
        // Also by 0: a target that never succeeded still shows its series, at 0.
        this.targetCounters[name].inc({ target: t.target }, Math.max(0, t[name] - (last?.[name] ?? 0)));
      }
    }
    this.lastSink = { dropped: sink.dropped, targets: sink.targets.map((t) => ({ ...t })) };
  }

  /** The exposition text (prom-client's text format, which node-exporter's textfile collector reads). */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
