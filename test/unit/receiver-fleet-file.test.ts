import { describe, expect, it } from "vitest";
import { fleetFileBytes } from "../../agent/receiver/fleet-file";
import { FleetState, type NodeRecord } from "../../agent/receiver/fleet-state";
import type { ObjectValues } from "../../agent/snmp/state-objects";
import { notificationValues } from "../helpers/notification-values";

const T0 = Date.parse("2026-11-28T12:00:00Z");
const MIN = 60_000;

/** A node's values with objects of every kind: shared text, truth values, a number. */
const values = (node: string, sequence: number, atMs: number, extra: ObjectValues = {}): ObjectValues =>
  notificationValues(node, sequence, atMs, {
    edgeAgentTailnetTags: "tag:monitor",
    edgeAgentNodeExporterUp: true,
    edgeAgentSnmpdUp: false,
    edgeAgentFirewallPort: 41641,
    edgeAgentFirewallInboundIpv6: "accept",
    ...extra,
  });

/** The file FleetStore would write for this fleet, as text. */
const fileText = (f: FleetState) => fleetFileBytes(f.nodes.values()).toString("utf8");

const fleet = () => new FleetState({ defaultHeartbeatMs: 5 * MIN, staleAfterHeartbeats: 3, forgetAfterMs: 7 * 24 * 60 * MIN, maxNodes: 1000 }, T0);

/** What a restart must get back of a record (stale is recomputed, not saved). */
const kept = ({ stale: _stale, ...rest }: NodeRecord) => rest;

describe("fleet state file, version 3", () => {
  it("reads back every node as it was: values of each kind, sequence history, heartbeat gaps, odd text", () => {
    const f = fleet();
    f.apply(values("host1", 7, T0), "heartbeat", T0 + 40, "100.64.0.1");
    f.apply(values("host1", 8, T0 + 5 * MIN), "heartbeat", T0 + 5 * MIN + 40, "100.64.0.1");
    f.apply(values("host1", 10, T0 + 6 * MIN, { edgeAgentSnmpdUp: true }), "serviceUp", T0 + 6 * MIN, "100.64.0.1");
    // Text that needs escaping, outside ASCII, and a lone surrogate; an event time that does not parse.
    f.apply(values("host2", 3, T0, { edgeAgentHostName: 'Ho"st\\2\n', edgeAgentEventSummary: "prefix → 2001:db8::/64 \ud800", edgeAgentEventTime: "garbled" }), "serviceDown", T0 + 1, "");
    // Late arrival: the record's sequence is no longer the one its values carry.
    f.apply(values("host1", 9, T0 + 5.5 * MIN), "heartbeat", T0 + 7 * MIN, "100.64.0.1");
    // A record restored from an older file may hold a sequence its values do not carry.
    f.apply(values("host3", 4, T0), "heartbeat", T0, "100.64.0.3");
    f.nodes.get("host3")!.lastSequence = 6;
    const text = fileText(f);
    const g = fleet();
    expect(g.restore(JSON.parse(text))).toBe(0);
    expect([...g.nodes.values()].map(kept)).toEqual([...f.nodes.values()].map(kept));
    expect(g.nodes.get("host2")!.values.edgeAgentEventSummary).toBe("prefix → 2001:db8::/64 \ud800");
    expect(g.apply(values("host1", 9, T0 + 5.5 * MIN), "heartbeat", T0 + 8 * MIN, "100.64.0.1").kind).toBe("duplicate");
  });

  it("writes shared strings once and derived fields as null, so a node takes a few hundred bytes", () => {
    const f = fleet();
    for (let i = 0; i < 100; i++) f.apply(values(`n${i}`, 5, T0), "heartbeat", T0, `100.64.0.${i}`);
    const text = fileText(f);
    expect(text.split('"tag:monitor"').length - 1).toBe(1);
    expect(text.split('"edgeAgentHostName"').length - 1).toBe(1);
    const file = JSON.parse(text);
    expect(file).toMatchObject({ version: 3, fields: expect.arrayContaining(["node", "values"]) });
    const record = file.nodes[0];
    expect(record[file.fields.indexOf("lastSequence")]).toBeNull();
    expect(record[file.fields.indexOf("lastEventMs")]).toBeNull();
    expect(text.length / 100).toBeLessThan(250);
  });

  it("places fields and objects by the names in the file's header, not by a fixed order", () => {
    const f = fleet();
    f.apply(values("host1", 7, T0), "heartbeat", T0, "100.64.0.1");
    const file = JSON.parse(fileText(f));
    // The same file with its fields and objects listed in reverse.
    const reversed = {
      ...file,
      fields: [...file.fields].reverse(),
      objects: [...file.objects].reverse(),
      nodes: file.nodes.map((r: unknown[]) => {
        const valuesAt = file.fields.indexOf("values");
        const padded = [...(r[valuesAt] as unknown[])];
        while (padded.length < file.objects.length) padded.push(null);
        return r.map((v, i) => (i === valuesAt ? padded.reverse() : v)).reverse();
      }),
    };
    const g = fleet();
    expect(g.restore(reversed)).toBe(0);
    expect(kept(g.nodes.get("host1")!)).toEqual(kept(f.nodes.get("host1")!));
  });

  it("skips, and counts, records it cannot read, and keeps the others", () => {
    const f = fleet();
    f.apply(values("good", 1, T0), "heartbeat", T0, "100.64.0.1");
    const file = JSON.parse(fileText(f));
    const good = file.nodes[0] as unknown[];
    const at = (field: string) => file.fields.indexOf(field);
    const broken = (field: string, value: unknown) => good.map((v, i) => (i === at(field) ? value : v));
    const valuesWith = (value: unknown) => broken("values", [value]);
    file.nodes.push(
      { node: "object, not an array" },
      broken("node", 5),
      broken("lastSeenMs", "soon"),
      broken("values", "none"),
      valuesWith(999), // no such string
      valuesWith(1.5),
      valuesWith({ a: 1 }),
      valuesWith([1, 2]),
      null,
    );
    const g = fleet();
    expect(g.restore(file)).toBe(9);
    expect([...g.nodes.keys()]).toEqual(["good"]);
    expect(() => g.restore({ ...file, strings: "x" })).toThrow(/not a fleet state file/);
    expect(() => g.restore({ version: 4, nodes: [] })).toThrow(/not a fleet state file/);
  });
});

describe("fleet state file, earlier versions", () => {
  it("loads a version 2 file (field names per node, values in the order of its objects)", () => {
    const v2 = {
      version: 2,
      objects: ["edgeAgentHostName", "edgeAgentTailnetName", "edgeAgentFirewallPort", "edgeAgentSnmpdUp", "edgeAgentNotificationSequence", "edgeAgentEventTime", "edgeAgentEventSummary", "edgeAgentNoSuchObject"],
      nodes: [
        { node: "old2", lastSeenMs: T0 + 40, lastSequence: 4, lastEventMs: T0, window: 5, lastEvent: "heartbeat", source: "100.64.0.7", lastHeartbeatEventMs: T0, heartbeatGapsMs: [5 * MIN], values: ["old2", "old2.example-tailnet.ts.net", 41641, true, 4, new Date(T0).toISOString(), "event 4", "ignored"] },
        { node: "broken", values: "none" },
      ],
    };
    const g = fleet();
    expect(g.restore(JSON.parse(JSON.stringify(v2)))).toBe(1);
    expect(g.nodes.get("old2")).toMatchObject({
      lastSeenMs: T0 + 40, lastSequence: 4, lastEventMs: T0, window: 5, source: "100.64.0.7", lastHeartbeatEventMs: T0, heartbeatGapsMs: [5 * MIN], lastSummary: "event 4",
    });
    expect(g.nodes.get("old2")!.values).toMatchObject({ edgeAgentHostName: "old2", edgeAgentFirewallPort: 41641, edgeAgentSnmpdUp: true, edgeAgentEventSummary: "event 4" });
    expect(g.nodes.get("old2")!.values.edgeAgentNoSuchObject).toBeUndefined();
    // Window 5: sequences 3 and 1 were seen, 2 was not.
    expect(g.apply(values("old2", 3, T0 - MIN), "heartbeat", T0 + MIN, "100.64.0.7").kind).toBe("duplicate");
    expect(g.apply(values("old2", 2, T0 - 2 * MIN), "heartbeat", T0 + MIN, "100.64.0.7").kind).toBe("late");
  });
});
