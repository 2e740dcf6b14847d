// The `tailnet.policy` part of NodeState: the verdicts of this node's tailscaled packet filter on
// the two flows the scraper opens here (tcp/9100 to node-exporter, udp/161 to snmpd). It lives
// inside `tailnet` (DESIGN.md's status --json shape) and is probed from the tailnet part's
// results (agent/probes/collect.ts), but it is a fact of its own: its verdicts, its failures.
import type { StateEvent } from "../diff";
import { flowById, flowLabel } from "../policy/flows";
import { NODE_FLOWS, type NodeFlowId, type NodeFlowVerdict } from "../policy/node-flows";
import type { Alert } from "../receiver/alerts";
import type { ObjectValues } from "../snmp/state-objects";
import { because, verdictFamily, verdictLine, type PartDefinition, type StateObject } from "./fact";
import { VERDICT_VALUES } from "./firewall";
import type { NodeState } from "./node-state";
import { PROBE_FAILURES, type Unavailable } from "./unavailable";

export type { NodeFlowId, NodeFlowVerdict } from "../policy/node-flows";

/** The filter was read, or why it cannot be is known: one verdict per flow the scraper opens. */
export interface TailnetPolicyState {
  state: "ok";
  /** Where the filter came from; null when it could not be read (every verdict is then unknown). */
  source: "ipn-bus" | "debug-packet-filter-rules" | null;
  flows: NodeFlowVerdict[];
}

/**
 * Why no verdict could be made at all. tailnet-unavailable: tailscaled's status could not be read,
 * or it is not Running (the tailnet part says why); no-socket: no LocalAPI socket (the CLI has no filter); no-scraper:
 * no scraper address to judge for (it is not a peer: a policy that lets the two talk in neither
 * direction hides it, as does a wrong `scraper` setting); localapi: tailscaled failed or did not
 * answer; malformed: an answer of the wrong shape; no-filter-source: this tailscaled offers the
 * filter on neither the IPN bus nor the debug endpoint.
 */
export const TAILNET_POLICY_FAILURES = ["tailnet-unavailable", "no-socket", "no-scraper", "localapi", "malformed", "no-filter-source", ...PROBE_FAILURES] as const;
export type TailnetPolicyFailure = (typeof TAILNET_POLICY_FAILURES)[number];

export type TailnetPolicyUnavailable = Unavailable<TailnetPolicyFailure>;
export type TailnetPolicy = TailnetPolicyState | TailnetPolicyUnavailable;

interface FlowDefinition {
  object: string;
  oid: number;
  description: string;
  /** What the flow is for, as the alert and doctor say it. */
  words: string;
}

/** Each flow's MIB object (new flows get the next free sub-identifier: existing OIDs never move). */
export const POLICY_FLOWS: Record<NodeFlowId, FlowDefinition> = {
  "scrape-node-exporter": { object: "edgeAgentPolicyScrapeNodeExporter", oid: 25, words: "Prometheus's scrape of node-exporter", description: "The verdict of this node's tailscaled packet filter on a new tcp/9100 connection from the scraper's Tailscale IPs (Prometheus scraping node-exporter); unknown when the filter cannot be read." },
  "poll-snmpd": { object: "edgeAgentPolicyPollSnmpd", oid: 26, words: "the scraper's SNMP polls of snmpd", description: "The verdict of this node's tailscaled packet filter on a new udp/161 datagram from the scraper's Tailscale IPs (the scraper polling snmpd and these objects); unknown when the filter cannot be read." },
};

/** The part, wherever NodeState keeps it. */
export function policyOf(state: NodeState): TailnetPolicy {
  return state.tailnet.policy;
}

function judged(state: NodeState): TailnetPolicyState | null {
  const p = policyOf(state);
  return p.state === "ok" ? p : null;
}

function verdictOf(state: NodeState, id: NodeFlowId): NodeFlowVerdict["verdict"] {
  return judged(state)?.flows.find((f) => f.id === id)?.verdict ?? "unknown";
}

function key(state: NodeState): string {
  const p = policyOf(state);
  if (p.state === "unavailable") return `unavailable ${p.code}`;
  return JSON.stringify(NODE_FLOWS.map((id) => `${id}=${verdictOf(state, id)}`));
}

function describe(state: NodeState, why = false): string {
  const p = policyOf(state);
  if (p.state === "unavailable") return `tailnet policy verdicts unavailable${because(p.error, why)}`;
  return `tailnet policy: ${NODE_FLOWS.map((id) => `${id} ${verdictOf(state, id)}`).join(", ")}`;
}

/** One flow's line in `status`: the rule that decided, or why it is unknown. */
function flowLine(f: NodeFlowVerdict): string {
  const why = f.verdict === "unknown" ? f.reason ?? f.decidedBy : `${f.decidedBy}${f.reason ? ` (${f.reason})` : ""}`;
  return `${f.id.padEnd(20)} ${flowLabel(flowById(f.id)).padEnd(8)} ${f.verdict.toUpperCase().padEnd(7)} ${why}`;
}

function alerts(v: ObjectValues, node: string): Alert[] {
  return NODE_FLOWS.filter((flow) => v[POLICY_FLOWS[flow].object] === "drop").map((flow) => ({
    labels: { alertname: "EdgeTailnetPolicyBlocksScraper", node, flow, severity: "critical" },
    annotations: {
      summary: `${node}: its tailscaled drops ${POLICY_FLOWS[flow].words} (${flowLabel(flowById(flow))} from the scraper)`,
      description: `The tailnet policy (or shields-up) refuses it, so the scraper sees nothing from this flow. Run \`edge-agent doctor --check tailnet-policy\` on ${node} for the entry to add to the tailnet policy.`,
    },
  }));
}

const objects: StateObject[] = NODE_FLOWS.map((flow): StateObject => {
  const f = POLICY_FLOWS[flow];
  return { name: f.object, id: f.oid, access: "read-only", syntax: { kind: "Enum", values: VERDICT_VALUES }, description: f.description, value: (s) => verdictOf(s, flow) };
});

export const tailnetPolicyPart: PartDefinition = {
  part: "tailnet.policy",
  failures: TAILNET_POLICY_FAILURES,
  objects,
  series: [
    { name: "edge_agent_tailnet_policy_verdict", help: "Always 1; verdict is this node's tailscaled packet filter verdict (accept, drop, unknown) on each flow the scraper opens here.", labels: ["flow", "verdict"] },
    { name: "edge_agent_tailnet_policy_accepts", help: "Whether this node's tailscaled packet filter admits a flow from the scraper (absent when undecided).", labels: ["flow"] },
  ],
  textfile: (state, out) => {
    out.set("edge_agent_probe_up", { probe: "tailnet.policy" }, judged(state) ? 1 : 0);
    // Both flows always: unknown when the filter could not be judged, so a dashboard has a series.
    // One series per flow carrying its verdict, the textfile's and the receiver's convention.
    for (const flow of NODE_FLOWS) {
      const verdict = verdictOf(state, flow);
      out.set("edge_agent_tailnet_policy_verdict", { flow, verdict }, 1);
      if (verdict !== "unknown") out.set("edge_agent_tailnet_policy_accepts", { flow }, verdict === "accept" ? 1 : 0);
    }
  },
  notifications: [{ name: "edgeAgentPolicyChanged", id: 10, event: "policyChanged", description: "A verdict of this node's tailscaled packet filter on a flow the scraper opens (tcp/9100, udp/161) changed, or the filter became unreadable." }],
  events: (prev, next) => (key(prev) !== key(next) ? [{ kind: "policyChanged", summary: `${describe(next, true)} (was: ${describe(prev)})` } satisfies StateEvent] : []),
  // Without tailscaled's status the tailnet part already says what is missing.
  problemsAtStart: (state) => {
    const p = policyOf(state);
    return p.state === "unavailable" && p.code !== "tailnet-unavailable" ? [describe(state, true)] : [];
  },
  status: (state) => {
    const p = policyOf(state);
    // Without tailscaled's status the tailnet line above already says why, at length.
    if (p.state === "unavailable" && state.tailnet.state === "unavailable") return ["          policy unknown: tailscaled unavailable"];
    if (p.state === "unavailable") return [`          policy unavailable: ${p.error}`];
    const [first, ...rest] = p.flows.map(flowLine);
    return [`          policy ${first ?? "(no flows)"}`, ...rest.map((line) => `                 ${line}`)];
  },
  page: [{ heading: "Policy", lines: (v) => NODE_FLOWS.map((flow) => verdictLine(flow, v[POLICY_FLOWS[flow].object])) }],
  fleetInfo: [],
  fleet: [
    verdictFamily(
      "edge_fleet_node_tailnet_policy_verdict",
      "Always 1; verdict is the node's tailscaled packet filter verdict (drop under receiver.nodeSeries problems; accept, drop, unknown under all) on each flow the scraper opens there.",
      "flow",
      NODE_FLOWS,
      (flow) => POLICY_FLOWS[flow].object,
      { name: "edge_fleet_nodes_by_tailnet_policy_verdict", help: "Nodes per flow the scraper opens and the verdict of the node's tailscaled packet filter (accept, drop, unknown)." },
    ),
  ],
  alerts,
};
