// The /metrics body: the receiver's own counters (a small prom-client registry, rendered per
// scrape) followed by the per-node series and fleet counts, which are rendered once per fleet
// change and served from that text until the next one (render-cache.ts; a 100,000-node fleet is
// a few megabytes of text with receiver.nodeSeries problems, ~140 MB with all).
import { renderFleetMetrics, type NodeSeries } from "./fleet-metrics";
import type { FleetState } from "./fleet-state";
import type { ReceiverMetrics } from "./metrics";
import { RenderCache } from "./render-cache";

export class MetricsPage {
  private readonly cache: RenderCache;

  constructor(
    fleet: FleetState,
    private readonly metrics: ReceiverMetrics,
    minIntervalMs = 1000,
    /** Series from outside the fleet's records (the tailnet peers'), rendered with them. */
    extra: () => string = () => "",
    /** receiver.nodeSeries, read at each rendering (a reload may change it). */
    nodeSeries: () => NodeSeries = () => "problems",
  ) {
    this.cache = new RenderCache(fleet, () => renderFleetMetrics(fleet, nodeSeries()) + extra(), minIntervalMs);
  }

  get renders(): number {
    return this.cache.renders;
  }

  /** The per-node part as of now (see RenderCache.current). */
  fleetText(): Promise<string> {
    return this.cache.current();
  }

  release(): void {
    this.cache.release();
  }

  get contentType(): string {
    return this.metrics.registry.contentType;
  }

  /** Both parts, the small one first (written as two chunks: the large one is never copied). */
  async parts(): Promise<[string, string]> {
    const fleet = await this.fleetText();
    return [await this.metrics.registry.metrics(), fleet];
  }
}
