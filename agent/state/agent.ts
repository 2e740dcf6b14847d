// The `agent` part of NodeState: the edge-agent that took the snapshot.
import { text, type PartDefinition } from "./fact";

export const agentPart: PartDefinition = {
  part: "agent",
  failures: [],
  objects: [{ name: "edgeAgentVersion", id: 19, access: "read-only", syntax: { kind: "DisplayString", size: [0, 64] }, description: "The edge-agent version.", value: (s) => s.agent.version }],
  series: [{ name: "edge_agent_build_info", help: "Always 1; the running edge-agent's version and the Node.js it runs on.", labels: ["version", "nodejs_version"] }],
  textfile: (state, out) => out.set("edge_agent_build_info", { version: state.agent.version, nodejs_version: process.version }, 1),
  // The agent's own notifications: its start, its heartbeat, and `edge-agent trap --test`.
  notifications: [
    { name: "edgeAgentStarted", id: 1, event: "agentStarted", description: "The agent started and took its first snapshot of the node." },
    { name: "edgeAgentHeartbeat", id: 2, event: "heartbeat", description: "Sent periodically so the receiver can tell a quiet node from a lost one." },
    { name: "edgeAgentTest", id: 9, event: "test", description: "A test notification sent by `edge-agent trap --test`." },
  ],
  // A new version is a restart, which agentStarted reports.
  events: () => [],
  problemsAtStart: () => [],
  // The version is `edge-agent --version`'s, not a fact about the host.
  status: () => [],
  fleetInfo: [{ label: "version", object: "edgeAgentVersion", fallback: "", position: 7, counted: true }],
  fleet: [],
  page: [{ heading: "Agent", lines: (v) => [{ label: "", value: text(v.edgeAgentVersion) || "unknown", tone: "none" }] }],
  alerts: () => [],
};
