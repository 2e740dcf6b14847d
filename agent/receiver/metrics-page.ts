// The /metrics body: the receiver's own counters (a small prom-client registry, rendered per
// scrape) followed by the per-node series, which are rendered once per fleet change and served
// from that text until the next one. Under a flood of changes they are re-rendered at most once
// per `minIntervalMs`, so concurrent or frequent scrapes of a large fleet share one rendering
// instead of each building its own (a 100,000-node fleet is tens of megabytes of text). Text the
// fleet has moved on from is let go (release(), on the receiver's tick) rather than kept until
// the next scrape, which would render anew anyway: ~1.4 KB per node of heap held for nothing.
import { renderFleetMetrics } from "./fleet-metrics";
import type { FleetState } from "./fleet-state";
import type { ReceiverMetrics } from "./metrics";

export class MetricsPage {
  private text = "";
  private generation = -1;
  private renderedMs = 0;
  private pending: Promise<string> | null = null;
  renders = 0;

  constructor(
    private readonly fleet: FleetState,
    private readonly metrics: ReceiverMetrics,
    private readonly minIntervalMs = 1000,
  ) {}

  /**
   * The per-node part as of now: the cached text when the fleet has not changed since it was
   * rendered; else one rendering, shared by every scrape waiting for it, at most once per
   * minIntervalMs (a scrape right after one waits out the rest of the interval).
   */
  fleetText(): Promise<string> {
    if (this.fleet.generation === this.generation) return Promise.resolve(this.text);
    if (this.pending) return this.pending;
    const waitMs = Math.max(0, this.renderedMs + this.minIntervalMs - Date.now());
    this.pending = new Promise<void>((resolve) => (waitMs > 0 ? setTimeout(resolve, waitMs) : resolve())).then(() => {
      this.pending = null;
      this.generation = this.fleet.generation;
      this.text = renderFleetMetrics(this.fleet);
      this.renderedMs = Date.now();
      this.renders++;
      return this.text;
    });
    return this.pending;
  }

  /** Drops the cached text once the fleet changed since it was rendered (the next scrape renders anyway). */
  release(): void {
    if (this.fleet.generation !== this.generation && !this.pending) this.text = "";
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
