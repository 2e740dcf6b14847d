// The `host` part of NodeState: what the machine is (name, OS, kernel, model).
import { text, type PartDefinition } from "./fact";
import { PROBE_FAILURES, type Unavailable } from "./unavailable";

export interface HostInfo {
  state: "ok";
  hostname: string;
  os: string;
  kernel: string;
  model: string;
  arch: string;
}

export const HOST_FAILURES = [...PROBE_FAILURES] as const;
export type HostFailure = (typeof HOST_FAILURES)[number];

export type HostPart = HostInfo | Unavailable<HostFailure>;

export const hostPart: PartDefinition = {
  part: "host",
  failures: HOST_FAILURES,
  objects: [
    { name: "edgeAgentHostName", id: 1, access: "read-only", syntax: { kind: "DisplayString", size: [0, 255] }, description: "The host name of the node the agent runs on.", value: (s) => (s.host.state === "ok" ? s.host.hostname : "") },
  ],
  series: [],
  textfile: (state, out) => out.set("edge_agent_probe_up", { probe: "host" }, state.host.state === "ok" ? 1 : 0),
  notifications: [],
  // The host's name and OS change only with a reboot or an upgrade, which a restart reports.
  events: () => [],
  problemsAtStart: (state) => (state.host.state === "unavailable" ? [`host facts unavailable: ${state.host.error}`] : []),
  status: ({ host: h }) => [h.state === "ok" ? `host      ${h.hostname} — ${h.os}, kernel ${h.kernel}, ${h.model} (${h.arch})` : `host      unavailable: ${h.error}`],
  fleetInfo: [{ label: "hostname", object: "edgeAgentHostName", fallback: "", position: 2 }],
  fleet: [],
  page: [{ heading: "Host", lines: (v) => [{ label: "", value: text(v.edgeAgentHostName) || "unknown", tone: "none" }] }],
  alerts: () => [],
};
