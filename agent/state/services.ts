// The `services` part of NodeState: whether node-exporter and snmpd answer, locally and on the
// host's Tailscale IP (where the scraper polls them).
import type { StateEvent } from "../diff";
import type { Alert } from "../receiver/alerts";
import type { ObjectValues } from "../snmp/state-objects";
import { labelPairs, yesNo, type PartDefinition, type StateObject } from "./fact";
import type { NodeState } from "./node-state";

/**
 * Why a service does not answer. tls: node-exporter's certificate was refused or the CA file could
 * not be read (the probe's TLS settings are the fix); http-status: it answered with an HTTP error;
 * not-node-exporter: it answered, but not with node-exporter's metrics; not-listening: nothing
 * listens on the port; no-answer: no answer within the timeout, or the connection failed;
 * access-denied: snmpd answered but refused the user, key or community.
 */
export const SERVICE_FAILURES = ["tls", "http-status", "not-node-exporter", "not-listening", "no-answer", "access-denied", "timeout", "probe-error"] as const;
export type ServiceFailure = (typeof SERVICE_FAILURES)[number];

export interface NodeExporterState {
  url: string;
  up: boolean;
  version: string | null;
  /** Answers on the host's Tailscale IP too; null when there is no Tailscale IP to try. */
  tailnetReachable: boolean | null;
  /** Why it is down, when it is. */
  code?: ServiceFailure;
  error?: string;
  tailnetError?: string;
}

export interface SnmpdState {
  target: string;
  up: boolean;
  sysDescr: string | null;
  sysUpTimeSeconds: number | null;
  tailnetReachable: boolean | null;
  code?: ServiceFailure;
  error?: string;
  tailnetError?: string;
}

export interface ServicesState {
  nodeExporter: NodeExporterState;
  snmpd: SnmpdState;
}

/** The services, by their key in NodeState.services. */
export type ServiceName = keyof ServicesState;

interface ServiceDefinition {
  /**
   * The `service` label in the textfile, the fleet metrics and the alerts: node_exporter, the
   * Prometheus project's name for it (the Debian package is prometheus-node-exporter).
   */
  label: string;
  /** How summaries and logs name it. */
  display: string;
  /** Its systemd unit, for the alert's hint. */
  unit: string;
  object: string;
  oid: number;
  description: string;
}

export const SERVICES: Record<ServiceName, ServiceDefinition> = {
  nodeExporter: { label: "node_exporter", display: "node-exporter", unit: "prometheus-node-exporter", object: "edgeAgentNodeExporterUp", oid: 11, description: "Whether node-exporter answers on the node's configured metrics URL." },
  snmpd: { label: "snmpd", display: "snmpd", unit: "snmpd", object: "edgeAgentSnmpdUp", oid: 12, description: "Whether the node's snmpd answers a GET of sysUpTime.0." },
};

export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** edgeAgentEventService's values: which service a serviceDown or serviceUp is about. */
export const SERVICE_VALUES = { none: 0, nodeExporter: 1, snmpd: 2 } as const satisfies Record<"none" | ServiceName, number>;

function describeDown(state: NodeState, service: ServiceName): string {
  return `${SERVICES[service].display} down: ${state.services[service].error ?? "no answer"}`;
}

function events(prev: NodeState, next: NodeState): StateEvent[] {
  const out: StateEvent[] = [];
  for (const service of SERVICE_NAMES) {
    const was = prev.services[service].up;
    const now = next.services[service].up;
    if (was && !now) out.push({ kind: "serviceDown", service, summary: describeDown(next, service) });
    if (!was && now) out.push({ kind: "serviceUp", service, summary: `${SERVICES[service].display} up` });
  }
  return out;
}

function alerts(v: ObjectValues, node: string): Alert[] {
  return SERVICE_NAMES.filter((service) => v[SERVICES[service].object] === false).map((service) => {
    const { label, unit } = SERVICES[service];
    return {
      labels: { alertname: "EdgeServiceDown", node, service: label, severity: "warning" },
      annotations: {
        summary: `${node}: ${label} does not answer`,
        description: `Check it on ${node} with \`systemctl status ${unit}\`; \`edge-agent doctor\` says what the agent sees.`,
      },
    };
  });
}

export const servicesPart: PartDefinition = {
  part: "services",
  failures: SERVICE_FAILURES,
  objects: SERVICE_NAMES.map((service): StateObject => {
    const s = SERVICES[service];
    return { name: s.object, id: s.oid, access: "read-only", syntax: { kind: "TruthValue" }, description: s.description, value: (state) => state.services[service].up };
  }),
  series: [
    { name: "edge_agent_service_up", help: "Whether a local service answers on its configured address.", labels: ["service"] },
    { name: "edge_agent_service_tailnet_reachable", help: "Whether a local service answers on the host's Tailscale IP (absent without one).", labels: ["service"] },
  ],
  textfile: (state, out) => {
    for (const service of SERVICE_NAMES) {
      const s = state.services[service];
      const labels = { service: SERVICES[service].label };
      out.set("edge_agent_service_up", labels, s.up ? 1 : 0);
      if (s.tailnetReachable !== null) out.set("edge_agent_service_tailnet_reachable", labels, s.tailnetReachable ? 1 : 0);
    }
  },
  notifications: [
    { name: "edgeAgentServiceDown", id: 6, event: "serviceDown", description: "node-exporter or snmpd stopped answering (edgeAgentEventService says which)." },
    { name: "edgeAgentServiceUp", id: 7, event: "serviceUp", description: "node-exporter or snmpd answers again (edgeAgentEventService says which)." },
  ],
  events,
  problemsAtStart: (state) => SERVICE_NAMES.filter((service) => !state.services[service].up).map((service) => describeDown(state, service)),
  status: (state) => {
    const ne = state.services.nodeExporter;
    const sd = state.services.snmpd;
    return [
      `services  node-exporter ${ne.up ? `up${ne.version ? ` ${ne.version}` : ""}` : `DOWN (${ne.error})`}, on the tailnet IP: ${yesNo(ne.tailnetReachable)}`,
      `          snmpd ${sd.up ? "up" : `DOWN (${sd.error})`}, on the tailnet IP: ${yesNo(sd.tailnetReachable)}`,
    ];
  },
  fleetInfo: [],
  page: [
    {
      heading: "Services",
      lines: (v) =>
        SERVICE_NAMES.map((service) => {
          const up = v[SERVICES[service].object];
          const label = SERVICES[service].label;
          return up === true ? { label, value: "up", tone: "ok" } : up === false ? { label, value: "down", tone: "bad" } : { label, value: "unknown", tone: "none" };
        }),
    },
  ],
  fleet: [
    {
      name: "edge_fleet_node_service_up",
      help: "1 when the node reported the service answering, else 0. Under receiver.nodeSeries problems only the 0s are written.",
      samples: (v) =>
        SERVICE_NAMES.map((service) => {
          const up = v[SERVICES[service].object] === true;
          return { labels: labelPairs([["service", SERVICES[service].label]]), value: up ? 1 : 0, problem: !up };
        }),
      count: { name: "edge_fleet_nodes_by_service_up", help: "Nodes per service and whether it answers (up 1) or not (up 0).", valueLabel: "up" },
    },
  ],
  alerts,
};
