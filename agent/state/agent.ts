// The `agent` part of NodeState: the edge-agent that took the snapshot.
import type { PartDefinition } from "./fact";

export const agentPart: PartDefinition = {
  part: "agent",
  failures: [],
  objects: [{ name: "edgeAgentVersion", id: 19, access: "read-only", syntax: { kind: "DisplayString", size: [0, 64] }, description: "The edge-agent version.", value: (s) => s.agent.version }],
  series: [{ name: "edge_agent_info", help: "The running edge-agent's version (always 1).", labels: ["version"] }],
  textfile: (state, out) => out.set("edge_agent_info", { version: state.agent.version }, 1),
  // A new version is a restart, which agentStarted reports.
  events: () => [],
  problemsAtStart: () => [],
  // The version is `edge-agent --version`'s, not a fact about the host.
  status: () => [],
  fleetInfo: [{ label: "version", object: "edgeAgentVersion", fallback: "", position: 7 }],
  fleet: [],
  alerts: () => [],
};
