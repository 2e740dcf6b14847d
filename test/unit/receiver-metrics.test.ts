import { describe, expect, it } from "vitest";
import { FleetState } from "../../agent/receiver/fleet-state";
import { ReceiverMetrics } from "../../agent/receiver/metrics";

describe("receiver metrics", () => {
  it("shows every notification counted with countReceived at each reading, by version, pdu and mib", async () => {
    const fleet = new FleetState({ defaultHeartbeatMs: 300_000, staleAfterHeartbeats: 3, forgetAfterMs: 86_400_000, maxNodes: 10 }, Date.now());
    const metrics = new ReceiverMetrics(() => fleet, { whoisErrors: () => 0, alertSends: () => ({ sent: 0, failed: 0 }), fleetRenders: () => 0 });
    const series = async () => (await metrics.registry.metrics()).split("\n").filter((l) => l.startsWith("edge_fleet_receiver_notifications_received_total{"));
    expect(await series()).toContain('edge_fleet_receiver_notifications_received_total{version="2c",pdu="trap",mib="edge_agent"} 0');
    for (let i = 0; i < 3; i++) metrics.countReceived("2c", "trap", "edge_agent");
    metrics.countReceived("3", "inform", "other");
    // A pair SNMP does not have (v1 inform) still counts, as its own series.
    metrics.countReceived("1", "inform", "edge_agent");
    const first = await series();
    expect(first).toContain('edge_fleet_receiver_notifications_received_total{version="2c",pdu="trap",mib="edge_agent"} 3');
    expect(first).toContain('edge_fleet_receiver_notifications_received_total{version="2c",pdu="trap",mib="other"} 0');
    expect(first).toContain('edge_fleet_receiver_notifications_received_total{version="3",pdu="inform",mib="other"} 1');
    expect(first).toContain('edge_fleet_receiver_notifications_received_total{version="1",pdu="inform",mib="edge_agent"} 1');
    // Counted once: a second reading adds only what came since.
    metrics.countReceived("2c", "trap", "edge_agent");
    expect(await series()).toContain('edge_fleet_receiver_notifications_received_total{version="2c",pdu="trap",mib="edge_agent"} 4');
  });
});
