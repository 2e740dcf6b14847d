// NodeState (plus the daemon's own counters) -> the edge_agent_* metrics, in a private prom-client
// registry; each part of NodeState declares and writes its own series (agent/state/<part>.ts). Never the default registry: node-exporter already exports process metrics, and
// prom-client's defaults in a textfile would collide with them. No I/O here; daemon/textfile.ts writes.
// One module each instead of prom-client's index (see agent/prom-client-lib.d.ts).
import Counter from "prom-client/lib/counter";
import Gauge from "prom-client/lib/gauge";
import Registry from "prom-client/lib/registry";
import { EVENT_KINDS, type EventKind } from "./diff";
import type { SeriesWriter } from "./state/fact";
import type { NodeState } from "./state/node-state";
import { PARTS } from "./state/parts";

const nameOf = (gauge: Gauge): string => (gauge as unknown as { name: string }).name;

/** What the event sink (the notifier) reports about itself; see daemon/daemon.ts's EventSink. */
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

const TARGET_COUNTERS = ["sent", "acknowledged", "failed"] as const;

export class NodeMetrics {
  readonly registry = new Registry();
  /** The daemon's own series; each part of NodeState brings its own (agent/state/<part>.ts). */
  private readonly g = {
    probeUp: this.gauge("edge_agent_probe_up", "Whether the last cycle could read a source (1) or it was unavailable (0).", ["probe"]),
    lastCycle: this.gauge("edge_agent_last_cycle_timestamp_seconds", "When the last probe cycle ended (Unix time); alert when it grows old.", []),
    cycleDuration: this.gauge("edge_agent_cycle_duration_seconds", "How long the last probe cycle took.", []),
    queued: this.gauge("edge_agent_notifications_queued", "Notifications waiting in the outbox for a target.", ["target"]),
    agentx: this.gauge("edge_agent_agentx_registered", "Whether the AgentX subagent is registered with the local snmpd (absent when disabled).", []),
  };
  /** Every gauge by name: the parts' series and the daemon's. */
  private readonly gauges = new Map<string, Gauge>([
    ...PARTS.flatMap((part) => part.series.map((s): [string, Gauge] => [s.name, this.gauge(s.name, s.help, s.labels)])),
    ...Object.values(this.g).map((g): [string, Gauge] => [nameOf(g), g]),
  ]);
  /** What the parts write through: a name no part declared is a bug, so it throws. */
  private readonly writer: SeriesWriter = {
    set: (name, labels, value) => this.named(name).set(labels, value),
    setOptional: (name, value) => this.optional(this.named(name), value),
  };
  private readonly targetCounters = Object.fromEntries(
    TARGET_COUNTERS.map((name) => [name, new Counter({ name: `edge_agent_notifications_${name}_total`, help: `Notifications ${name} since the agent started, by target.`, labelNames: ["target"], registers: [this.registry] })]),
  ) as Record<(typeof TARGET_COUNTERS)[number], Counter>;
  private readonly dropped = new Counter({ name: "edge_agent_notifications_dropped_total", help: "Notifications dropped from the full outbox since the agent started.", registers: [this.registry] });
  private readonly events = new Counter({ name: "edge_agent_events_total", help: "State changes seen since the agent started, by kind.", labelNames: ["kind"], registers: [this.registry] });

  constructor() {
    // Every kind at 0 from the start, so the first event is an increase (test notifications are
    // sent by `trap --test`, never counted by the daemon).
    for (const kind of EVENT_KINDS) if (kind !== "test") this.events.inc({ kind }, 0);
  }
  /** The sink's last totals, so a counter only ever grows (a new sink after a reload starts at 0). */
  private lastSink: SinkStats | null = null;

  private named(name: string): Gauge {
    const gauge = this.gauges.get(name);
    if (!gauge) throw new Error(`no textfile series ${name} is declared by a part of NodeState`);
    return gauge;
  }

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
    const name = nameOf(gauge);
    if (value === null) {
      if (this.registry.getSingleMetric(name)) this.registry.removeSingleMetric(name);
      return;
    }
    if (!this.registry.getSingleMetric(name)) this.registry.registerMetric(gauge);
    gauge.set(value);
  }

  update(input: MetricsInput): void {
    for (const gauge of this.gauges.values()) gauge.reset();
    const g = this.g;
    for (const part of PARTS) part.textfile(input.state, this.writer);

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
