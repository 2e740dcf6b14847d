// Walks every definition of a NodeState part (agent/state/parts.ts) and proves that each output
// shows it: a firewall check `firewall check` can ask reaches the MIB, AgentX, the textfile, the
// receiver's metrics and its alerts; every object a part reports is on the fleet page; every
// failure code a probe can report gets a doctor finding with a fix. A part, a check id or a code added without its outputs fails here.
import { describe, expect, it } from "vitest";
import { judgeIpv6Prefix } from "../../agent/doctor/checks/addresses";
import { judgeFirewallPort } from "../../agent/doctor/checks/firewall";
import { judgeNodeExporter, judgeSnmpd } from "../../agent/doctor/checks/services";
import { judgeTailscaled } from "../../agent/doctor/checks/tailnet";
import { judgeTailnetPolicy } from "../../agent/doctor/checks/tailnet-policy";
import type { Finding } from "../../agent/doctor/finding";
import { questionPackets } from "../../agent/firewall/questions";
import { NodeMetrics } from "../../agent/metrics-node";
import { desiredAlerts } from "../../agent/receiver/alerts";
import { renderFleetMetrics } from "../../agent/receiver/fleet-metrics";
import { FleetState } from "../../agent/receiver/fleet-state";
import { renderMib } from "../../agent/snmp/mib";
import { NOTIFICATIONS, OBJECTS } from "../../agent/snmp/oid-tree";
import { EVENT_KINDS } from "../../agent/diff";
import { stateObjects } from "../../agent/snmp/state-objects";
import { FIREWALL_CHECK_IDS, FIREWALL_CHECKS, isFirewallCheckId, RULESET_FAILURES, type FirewallState } from "../../agent/state/firewall";
import type { NodeState } from "../../agent/state/node-state";
import { PARTS } from "../../agent/state/parts";
import { SERVICE_NAMES, SERVICES } from "../../agent/state/services";
import { NODE_FLOWS } from "../../agent/policy/node-flows";
import { POLICY_FLOWS } from "../../agent/state/tailnet-policy";
import { sampleNodeState } from "../helpers/sample-node-state";

const T0 = Date.parse("2026-12-03T08:00:00Z");

/** Every id the questions can carry: both families, in and out, and a forward prefix of each. */
function askableCheckIds(): string[] {
  const questions = questionPackets({
    port: 41641,
    ipv6: { address: "2001:db8:100:1::10", interface: "eth0" },
    ipv4: { address: "192.0.2.10", interface: "eth0" },
    forwardPrefixes: ["2001:db8:200::/56", "10.20.0.0/16"],
  });
  return [...new Set(questions.map((q) => q.id))];
}

/** A node whose firewall drops every check `firewall check` can ask. */
function droppingEverything(ids: string[]): NodeState {
  const state = sampleNodeState();
  const fw = state.firewall as FirewallState;
  fw.checks = ids.map((id) => ({ id, verdict: "drop", decidedBy: "inet filter input policy drop" }));
  return state;
}

async function textfile(state: NodeState): Promise<string> {
  const metrics = new NodeMetrics();
  metrics.update({ state, cycleEndedAtMs: T0, cycleDurationMs: 10, sink: null, agentxRegistered: null });
  return metrics.render();
}

function fleetOf(state: NodeState): FleetState {
  const fleet = new FleetState({ defaultHeartbeatMs: 60_000, staleAfterHeartbeats: 3, forgetAfterMs: 1e12, maxNodes: 10 }, T0);
  fleet.apply({ ...stateObjects(state), edgeAgentNotificationSequence: 1, edgeAgentEventTime: new Date(T0).toISOString() }, "heartbeat", T0, "100.64.0.10");
  return fleet;
}

describe("every firewall check `firewall check` can ask", () => {
  const ids = askableCheckIds();
  const state = droppingEverything(ids);

  it("is a defined check id, and every defined id can be asked", () => {
    expect(ids.filter((id) => !isFirewallCheckId(id))).toEqual([]);
    expect([...FIREWALL_CHECK_IDS].sort()).toEqual([...ids].sort());
  });

  it("has a MIB object, rendered in EDGE-AGENT-MIB and served over AgentX (read-only)", () => {
    const mib = renderMib();
    for (const id of ids) {
      const object = FIREWALL_CHECKS[id as keyof typeof FIREWALL_CHECKS].object;
      const def = OBJECTS.find((o) => o.name === object);
      expect(def, id).toMatchObject({ access: "read-only", syntax: { kind: "Enum" } });
      expect(mib).toContain(`${object} OBJECT-TYPE`);
      expect(stateObjects(state)[object], id).toBe("drop");
    }
  });

  it("has textfile series", async () => {
    const text = await textfile(state);
    for (const id of ids) {
      expect(text, id).toContain(`edge_agent_firewall_verdict{check="${id}",verdict="drop"} 1`);
      expect(text, id).toContain(`edge_agent_firewall_accepts{check="${id}"} 0`);
    }
  });

  it("has a fleet metric and an alert on the scraper, from the notification's objects", () => {
    const fleet = fleetOf(state);
    const metrics = renderFleetMetrics(fleet);
    const alerts = [...desiredAlerts(fleet).values()].filter((a) => a.labels.alertname === "EdgeFirewallBlocksTailscale").map((a) => a.labels.check);
    for (const id of ids) {
      expect(metrics, id).toMatch(new RegExp(`^edge_fleet_node_firewall_verdict\\{node="[^"]+",check="${id}",verdict="drop"\\} 1$`, "m"));
      expect(alerts, id).toContain(id);
    }
  });
});

describe("every flow the scraper opens to a node (tailnet.policy)", () => {
  const dropped = sampleNodeState();
  dropped.tailnet.policy = { state: "ok", source: "ipn-bus", flows: NODE_FLOWS.map((id) => ({ id, verdict: "drop", decidedBy: "default deny" })) };

  it("has a MIB object, rendered in EDGE-AGENT-MIB and served over AgentX (read-only)", () => {
    const mib = renderMib();
    for (const id of NODE_FLOWS) {
      const object = POLICY_FLOWS[id].object;
      expect(OBJECTS.find((o) => o.name === object), id).toMatchObject({ access: "read-only", syntax: { kind: "Enum" } });
      expect(mib).toContain(`${object} OBJECT-TYPE`);
      expect(stateObjects(dropped)[object], id).toBe("drop");
    }
  });

  it("has textfile series, present (unknown) when the filter could not be judged", async () => {
    const text = await textfile(dropped);
    const unavailable = sampleNodeState();
    unavailable.tailnet.policy = { state: "unavailable", code: "localapi", error: "x" };
    const unknown = await textfile(unavailable);
    for (const id of NODE_FLOWS) {
      expect(text, id).toContain(`edge_agent_tailnet_policy_verdict{flow="${id}",verdict="drop"} 1`);
      expect(text, id).toContain(`edge_agent_tailnet_policy_accepts{flow="${id}"} 0`);
      expect(unknown, id).toContain(`edge_agent_tailnet_policy_verdict{flow="${id}",verdict="unknown"} 1`);
      expect(unknown, id).not.toContain(`edge_agent_tailnet_policy_accepts{flow="${id}"}`);
    }
    expect(unknown).toContain('edge_agent_probe_up{probe="tailnet.policy"} 0');
  });

  it("has a fleet metric and an alert on the scraper, from the notification's objects", () => {
    const fleet = fleetOf(dropped);
    const metrics = renderFleetMetrics(fleet);
    const alerts = [...desiredAlerts(fleet).values()].filter((a) => a.labels.alertname === "EdgeTailnetPolicyBlocksScraper").map((a) => a.labels.flow);
    for (const id of NODE_FLOWS) {
      expect(metrics, id).toMatch(new RegExp(`^edge_fleet_node_tailnet_policy_verdict\\{node="[^"]+",flow="${id}",verdict="drop"\\} 1$`, "m"));
      expect(alerts, id).toContain(id);
    }
  });
});

describe("every service", () => {
  it("has one label value in the textfile, the fleet metrics and the alerts", async () => {
    const down = sampleNodeState({ nodeExporterUp: false, snmpdUp: false });
    const text = await textfile(down);
    const fleet = fleetOf(down);
    const metrics = renderFleetMetrics(fleet);
    const alerts = [...desiredAlerts(fleet).values()].filter((a) => a.labels.alertname === "EdgeServiceDown").map((a) => a.labels.service);
    for (const service of SERVICE_NAMES) {
      const label = SERVICES[service].label;
      expect(text).toContain(`edge_agent_service_up{service="${label}"} 0`);
      expect(metrics).toContain(`service="${label}"} 0`);
      expect(alerts).toContain(label);
    }
  });
});

/**
 * The doctor finding for a part unavailable with each code. Every part is listed, so a new part
 * has to say here which check judges its failures. host and agent have none: the host probe
 * reads files that every Linux has (its only failure is the cycle's deadline) and the agent
 * part is the running program itself.
 */
const DOCTOR: Record<string, ((code: string) => Finding[]) | null> = {
  agent: null,
  host: null,
  ipv6: (code) => [judgeIpv6Prefix({ state: "unavailable", code: code as never, error: "x" }, [])],
  tailnet: (code) => [true, false].map((installed) => judgeTailscaled({ state: "unavailable", code: code as never, error: "x", missingTags: [] }, ["tag:monitor"], installed)),
  services: (code) => [
    judgeNodeExporter({ url: "http://127.0.0.1:9100/metrics", up: false, version: null, tailnetReachable: null, code: code as never, error: "x" }, [], true),
    judgeSnmpd({ target: "127.0.0.1:161", up: false, sysDescr: null, sysUpTimeSeconds: null, tailnetReachable: null, code: code as never, error: "x" }, [], true),
  ],
  firewall: (code) => [judgeFirewallPort({ state: "unavailable", code: code as never, error: "x" }, 41641, "auto")],
  "tailnet.policy": (code) =>
    [false, true].map((isScraper) => judgeTailnetPolicy({ state: "unavailable", code: code as never, error: "x" }, { nodeTag: "tag:monitor", scraperTag: "tag:scraper", user: "edge-agent", isScraper })),
};

describe("every failure code", () => {
  it("of every part has a doctor finding that is not ok and names a fix", () => {
    expect(Object.keys(DOCTOR).sort()).toEqual(PARTS.map((p) => p.part).sort());
    for (const part of PARTS) {
      const judge = DOCTOR[part.part];
      if (!judge) continue;
      for (const code of part.failures) {
        for (const finding of judge(code)) {
          expect(finding.status, `${part.part} ${code}`).not.toBe("ok");
          expect(finding.fix, `${part.part} ${code}`).toEqual(expect.any(String));
        }
      }
    }
  });

  it("of a ruleset that could not be read has a doctor finding with a fix", () => {
    for (const code of RULESET_FAILURES) {
      const fw: FirewallState = { state: "ok", port: 41641, portSource: "localapi", backend: "none", notes: [], checks: [{ id: "inbound-ipv6", verdict: "unknown", decidedBy: "x", reason: "x" }], unreadable: { code, error: "x" } };
      expect(judgeFirewallPort(fw, 41641, "auto"), code).toMatchObject({ status: "skip", fix: expect.any(String) });
    }
  });
});

describe("the definitions", () => {
  it("give every MIB object one name and one sub-identifier, and every series and fleet family one name", () => {
    const ids = OBJECTS.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(OBJECTS.map((o) => o.name)).size).toBe(OBJECTS.length);
    const series = PARTS.flatMap((p) => p.series.map((s) => s.name));
    expect(new Set(series).size).toBe(series.length);
    const families = PARTS.flatMap((p) => p.fleet.map((f) => f.name));
    expect(new Set(families).size).toBe(families.length);
  });

  it("show every part of the snapshot in status's text form, under its name", () => {
    const state = sampleNodeState();
    for (const part of PARTS.filter((p) => p.part !== "agent")) {
      // A nested part (tailnet.policy) continues its parent's lines under its own name.
      const [parent, child] = part.part.split(".");
      expect(part.status(state)[0], part.part).toMatch(child ? new RegExp(`^ {10}${child} +\\S`) : new RegExp(`^${parent} +\\S`));
    }
  });

  it("give every kind of event one notification, at one sub-identifier", () => {
    const notifications = PARTS.flatMap((p) => p.notifications);
    expect(notifications.map((n) => n.event).sort()).toEqual([...EVENT_KINDS].sort());
    expect(new Set(notifications.map((n) => n.id)).size).toBe(notifications.length);
    expect(NOTIFICATIONS).toHaveLength(notifications.length);
  });

  it("show every object a part reports in the part's own columns of the fleet page", () => {
    const values = stateObjects(sampleNodeState());
    const cells = (part: (typeof PARTS)[number], v: typeof values) => JSON.stringify(part.page.map((column) => column.lines(v)));
    for (const part of PARTS)
      for (const object of part.objects) {
        const was = values[object.name];
        const syntax = object.syntax;
        const other =
          syntax.kind === "Enum" ? Object.keys(syntax.values).find((label) => label !== was)
          : syntax.kind === "TruthValue" ? !was
          : syntax.kind === "Unsigned32" ? Number(was) + 1
          : `${String(was)}-changed`;
        expect(cells(part, { ...values, [object.name]: other! }), `${part.part} ${object.name}`).not.toBe(cells(part, values));
      }
  });

  it("write every textfile series they declare for a node where everything is known", async () => {
    const text = await textfile(sampleNodeState());
    for (const part of PARTS) for (const s of part.series) expect(text, `${part.part} ${s.name}`).toMatch(new RegExp(`^${s.name}(\\{| )`, "m"));
  });
});
