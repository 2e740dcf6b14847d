// Flap damping rule: up to maxChanges changes of one subject per window pass; then the subject is
// held until quiet for quietMs, and one summary reports how it ended and how much was held back.
import { describe, expect, it } from "vitest";
import type { StateEvent } from "../../agent/diff";
import { FlapDamper, subjectOf } from "../../agent/snmp/flap-damper";

const down: StateEvent = { kind: "serviceDown", service: "snmpd", summary: "snmpd down: no answer" };
const up: StateEvent = { kind: "serviceUp", service: "snmpd", summary: "snmpd up" };

function clock(start = Date.UTC(2026, 10, 28, 12)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("FlapDamper", () => {
  it("turns a service bouncing every second for five minutes into a handful of notifications and one summary", () => {
    const c = clock();
    const damper = new FlapDamper({ windowMs: 60_000, maxChanges: 4, quietMs: 60_000 }, c.now);
    const sent: StateEvent[] = [];
    for (let i = 0; i < 300; i++) {
      sent.push(...damper.admit(i % 2 === 0 ? down : up), ...damper.tick());
      c.advance(1000);
    }
    expect(sent.map((e) => e.kind)).toEqual(["serviceDown", "serviceUp", "serviceDown", "serviceUp"]);
    expect(damper.held()).toEqual(["service:snmpd"]);
    // Still bouncing? Nothing more. Quiet for a minute: one summary of the final state.
    c.advance(58_000);
    expect(damper.tick()).toEqual([]);
    c.advance(2_000);
    const summary = damper.tick();
    expect(summary).toHaveLength(1);
    expect(summary[0].kind).toBe("serviceUp");
    expect(summary[0].service).toBe("snmpd");
    expect(summary[0].summary).toMatch(/^snmpd up \(settled after flapping: 296 changes held back between 2026-11-28T12:00:04\.000Z and 2026-11-28T12:04:59\.000Z\)$/);
    expect(damper.held()).toEqual([]);
    expect(damper.tick()).toEqual([]);
  });

  it("lets changes spaced wider than the window through, however many", () => {
    const c = clock();
    const damper = new FlapDamper({ windowMs: 60_000, maxChanges: 2, quietMs: 60_000 }, c.now);
    let passed = 0;
    for (let i = 0; i < 20; i++) {
      passed += damper.admit(i % 2 ? up : down).length;
      c.advance(31_000);
    }
    expect(passed).toBe(20);
  });

  it("holds subjects independently: one flapping service does not mute the other or the path", () => {
    const c = clock();
    const damper = new FlapDamper({ windowMs: 60_000, maxChanges: 2, quietMs: 10_000 }, c.now);
    for (let i = 0; i < 6; i++) damper.admit(i % 2 ? up : down);
    expect(damper.admit({ kind: "serviceDown", service: "nodeExporter", summary: "node-exporter down" })).toHaveLength(1);
    expect(damper.admit({ kind: "pathChanged", summary: "relayed" })).toHaveLength(1);
    expect(damper.held()).toEqual(["service:snmpd"]);
  });

  it("never damps agentStarted, heartbeat or test", () => {
    const damper = new FlapDamper({ maxChanges: 1 }, () => 0);
    for (const kind of ["agentStarted", "heartbeat", "test"] as const) for (let i = 0; i < 5; i++) expect(damper.admit({ kind, summary: kind })).toHaveLength(1);
  });

  it("starts afresh after the summary", () => {
    const c = clock();
    const damper = new FlapDamper({ windowMs: 10_000, maxChanges: 1, quietMs: 5_000 }, c.now);
    expect(damper.admit(down)).toHaveLength(1);
    expect(damper.admit(up)).toHaveLength(0);
    c.advance(5_000);
    expect(damper.tick()[0].summary).toMatch(/^snmpd up \(settled after flapping: 1 change held back/);
    expect(damper.admit(down)).toEqual([down]);
  });

  it("keys service events by service, other events by kind", () => {
    expect(subjectOf(down)).toBe(subjectOf(up));
    expect(subjectOf({ kind: "serviceDown", service: "nodeExporter", summary: "" })).not.toBe(subjectOf(down));
    expect(subjectOf({ kind: "firewallChanged", summary: "" })).toBe("firewallChanged");
  });
});
