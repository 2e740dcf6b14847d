import { describe, expect, it } from "vitest";
import { FleetState, nodeName } from "../../agent/receiver/fleet-state";
import { notificationValues } from "../helpers/notification-values";

const T0 = Date.parse("2026-11-28T12:00:00Z");
const MIN = 60_000;

const values = notificationValues;

function fleet(startedAtMs = T0, overrides: Partial<FleetState["options"]> = {}): FleetState {
  return new FleetState({ defaultHeartbeatMs: 5 * MIN, staleAfterHeartbeats: 3, forgetAfterMs: 7 * 24 * 60 * MIN, maxNodes: 1000, ...overrides }, startedAtMs);
}

describe("FleetState: sequences", () => {
  it("names a node by the first label of its tailnet name, else its host name", () => {
    expect(nodeName({ edgeAgentTailnetName: "Host1.example-tailnet.ts.net." })).toBe("host1");
    expect(nodeName({ edgeAgentTailnetName: "", edgeAgentHostName: "box.lan" })).toBe("box");
    expect(nodeName({})).toBeNull();
  });

  it("applies increasing sequences and drops a repeat (an inform retransmission) as a duplicate", () => {
    const f = fleet();
    expect(f.apply(values("host1", 10, T0), "agentStarted", T0, "100.64.0.2").kind).toBe("new");
    expect(f.apply(values("host1", 11, T0 + 1000, { edgeAgentSnmpdUp: false }), "serviceDown", T0 + 1000, "100.64.0.2").kind).toBe("new");
    expect(f.apply(values("host1", 11, T0 + 1000, { edgeAgentSnmpdUp: false }), "serviceDown", T0 + 1500, "100.64.0.2").kind).toBe("duplicate");
    expect(f.apply(values("host1", 10, T0), "agentStarted", T0 + 1600, "100.64.0.2").kind).toBe("duplicate");
    expect(f.nodes.get("host1")!.lastSequence).toBe(11);
    expect(f.nodes.get("host1")!.values.edgeAgentSnmpdUp).toBe(false);
  });

  it("takes an out-of-order replay once as late without letting its older values win", () => {
    const f = fleet();
    f.apply(values("host1", 1, T0), "agentStarted", T0, "a");
    // Outbox replay after an outage: 4 arrives before 2 and 3.
    f.apply(values("host1", 4, T0 + 3000, { edgeAgentScraperPath: "direct" }), "pathChanged", T0 + 9000, "a");
    const late = f.apply(values("host1", 2, T0 + 1000, { edgeAgentScraperPath: "relay" }), "pathChanged", T0 + 9001, "a");
    expect(late.kind).toBe("late");
    expect(f.apply(values("host1", 3, T0 + 2000), "heartbeat", T0 + 9002, "a").kind).toBe("late");
    expect(f.apply(values("host1", 2, T0 + 1000), "pathChanged", T0 + 9003, "a").kind).toBe("duplicate");
    expect(f.nodes.get("host1")!.values.edgeAgentScraperPath).toBe("direct");
  });

  it("treats a lower sequence with a later event time as the sender's counter starting again", () => {
    const f = fleet();
    f.apply(values("host1", 500, T0), "heartbeat", T0, "a");
    const reset = f.apply(values("host1", 1, T0 + 60_000, { edgeAgentNodeExporterUp: false }), "agentStarted", T0 + 60_000, "a");
    expect(reset).toMatchObject({ kind: "new", counterReset: true });
    expect(f.nodes.get("host1")!.lastSequence).toBe(1);
    expect(f.apply(values("host1", 2, T0 + 61_000), "heartbeat", T0 + 61_000, "a").kind).toBe("new");
    // The sequence wrapping around 2^32 is the same case.
    f.apply(values("host1", 4294967295, T0 + 62_000), "heartbeat", T0 + 62_000, "a");
    expect(f.apply(values("host1", 0, T0 + 63_000), "heartbeat", T0 + 63_000, "a")).toMatchObject({ kind: "new", counterReset: true });
  });

  it("refuses notifications without a node name or a sequence, and new nodes past the limit", () => {
    const f = fleet(T0, { maxNodes: 2 });
    expect(f.apply({ edgeAgentNotificationSequence: 1 }, "heartbeat", T0, "a").kind).toBe("invalid");
    expect(f.apply({ edgeAgentTailnetName: "x.ts.net" }, "heartbeat", T0, "a").kind).toBe("invalid");
    f.apply(values("a", 1, T0), "heartbeat", T0, "a");
    f.apply(values("b", 1, T0), "heartbeat", T0, "b");
    expect(f.apply(values("c", 1, T0), "heartbeat", T0, "c").kind).toBe("full");
    expect(f.apply(values("a", 2, T0 + 1), "heartbeat", T0 + 1, "a").kind).toBe("new");
  });
});

describe("FleetState: staleness", () => {
  it("is stale after staleAfterHeartbeats configured intervals, fresh again on the next notification", () => {
    const f = fleet();
    f.apply(values("host1", 1, T0), "agentStarted", T0, "a");
    expect(f.sweep(T0 + 15 * MIN).becameStale).toEqual([]);
    expect(f.sweep(T0 + 15 * MIN + 1).becameStale).toEqual(["host1"]);
    expect(f.nodes.get("host1")!.stale).toBe(true);
    f.apply(values("host1", 2, T0 + 16 * MIN), "heartbeat", T0 + 16 * MIN, "a");
    expect(f.nodes.get("host1")!.stale).toBe(false);
  });

  it("learns a node's heartbeat interval from its heartbeats, ignoring a missed one", () => {
    const f = fleet();
    let seq = 1;
    for (const at of [0, 1, 2, 4]) f.apply(values("host1", seq++, T0 + at * MIN), "heartbeat", T0 + at * MIN, "a");
    const r = f.nodes.get("host1")!;
    expect(f.heartbeatIntervalMs(r)).toBe(MIN);
    expect(f.sweep(T0 + 4 * MIN + 3 * MIN + 1).becameStale).toEqual(["host1"]);
  });

  it("gives every node a full stale period after the receiver starts", () => {
    const f = fleet(T0 + 60 * MIN);
    f.apply(values("host1", 1, T0), "heartbeat", T0, "a");
    expect(f.sweep(T0 + 61 * MIN).becameStale).toEqual([]);
    expect(f.sweep(T0 + 76 * MIN).becameStale).toEqual(["host1"]);
  });

  it("forgets a node not heard from for forgetAfter", () => {
    const f = fleet(T0, { forgetAfterMs: 60 * MIN });
    f.apply(values("host1", 1, T0), "heartbeat", T0, "a");
    expect(f.sweep(T0 + 61 * MIN).forgotten).toEqual(["host1"]);
    expect(f.nodes.size).toBe(0);
  });
});

describe("FleetState: persistence shape", () => {
  it("restores what it saved, sequence history included, and skips broken records", () => {
    const f = fleet();
    f.apply(values("host1", 7, T0, { edgeAgentPrimaryPrefix: "2001:db8:100:1::/64" }), "heartbeat", T0, "a");
    const saved = JSON.parse(JSON.stringify({ ...f.toJSON(), nodes: [...f.toJSON().nodes, { node: 5 }] }));
    const g = fleet();
    expect(g.restore(saved)).toBe(1);
    expect(g.nodes.get("host1")!.values.edgeAgentPrimaryPrefix).toBe("2001:db8:100:1::/64");
    expect(g.apply(values("host1", 7, T0), "heartbeat", T0 + 5, "a").kind).toBe("duplicate");
    expect(() => g.restore({ nodes: "x" })).toThrow(/not a fleet state file/);
  });
});

describe("FleetState: sources", () => {
  it("knows which node each source was last accepted for, across moves, forgetting and a restore", () => {
    const f = fleet();
    f.apply(values("host1", 1, T0), "heartbeat", T0, "100.64.0.2");
    expect(f.nodeAt("100.64.0.2")).toBe("host1");
    f.apply(values("host1", 2, T0 + MIN), "heartbeat", T0 + MIN, "100.64.0.3");
    expect([f.nodeAt("100.64.0.2"), f.nodeAt("100.64.0.3")]).toEqual([null, "host1"]);
    const restored = fleet();
    restored.restore(JSON.parse(JSON.stringify(f.toJSON())));
    expect(restored.nodeAt("100.64.0.3")).toBe("host1");
    f.sweep(T0 + 8 * 24 * 60 * MIN);
    expect(f.nodeAt("100.64.0.3")).toBeNull();
  });
});
