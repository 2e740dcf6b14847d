import { describe, expect, it } from "vitest";
import { FleetState } from "../../agent/receiver/fleet-state";
import { MetricsPage } from "../../agent/receiver/metrics-page";
import { ReceiverMetrics } from "../../agent/receiver/metrics";

function heartbeat(fleet: FleetState, name: string, sequence: number): void {
  fleet.apply({ edgeAgentTailnetName: `${name}.example-tailnet.ts.net`, edgeAgentNotificationSequence: sequence }, "heartbeat", Date.now(), "100.64.0.9");
}

describe("metrics page", () => {
  const setup = (minIntervalMs: number, nodeSeries: "problems" | "all" = "problems") => {
    const fleet = new FleetState({ defaultHeartbeatMs: 300_000, staleAfterHeartbeats: 3, forgetAfterMs: 7 * 86_400_000, maxNodes: 10 }, Date.now());
    const metrics = new ReceiverMetrics(() => fleet, { whoisErrors: () => 0, alertSends: () => ({ sent: 0, failed: 0 }), fleetRenders: () => page.renders });
    const page: MetricsPage = new MetricsPage(fleet, metrics, minIntervalMs, () => "", () => nodeSeries);
    return { fleet, page };
  };

  it("renders once per fleet change, however many ask at once", async () => {
    const { fleet, page } = setup(0);
    heartbeat(fleet, "a", 1);
    const texts = await Promise.all(Array.from({ length: 8 }, () => page.fleetText()));
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).toContain('edge_fleet_node_up{node="a"} 1');
    expect(page.renders).toBe(1);
    await page.fleetText();
    expect(page.renders).toBe(1);
    heartbeat(fleet, "b", 1);
    expect(await page.fleetText()).toContain('edge_fleet_node_up{node="b"} 1');
    expect(page.renders).toBe(2);
  });

  it("under a stream of changes renders at most once per interval, and never serves text older than the change it waited for", async () => {
    const { fleet, page } = setup(200, "all");
    heartbeat(fleet, "a", 1);
    await page.fleetText();
    heartbeat(fleet, "a", 2);
    const started = Date.now();
    const [own, fleetText] = await page.parts();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(fleetText).toContain('edge_fleet_node_last_sequence{node="a"} 2');
    expect(own).toContain("edge_fleet_receiver_metrics_renders_total 2");
  });
});
