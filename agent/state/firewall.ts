// The `firewall` part of NodeState: the local firewall's verdicts on tailscaled's UDP port.
import type { PacketSpec } from "../firewall/packet";
import type { Alert } from "../receiver/alerts";
import type { ObjectValues } from "../snmp/state-objects";
import { because, verdictFamily, verdictLine, type PartDefinition, type StateObject } from "./fact";
import type { NodeState } from "./node-state";
import { PROBE_FAILURES, type Unavailable } from "./unavailable";

/** One tailscaled-port question (inbound-ipv6, outbound-ipv4, forward-ipv6, ...) answered. */
export interface FirewallCheck {
  id: string;
  verdict: "accept" | "drop" | "unknown";
  /** The rule or policy that decided, e.g. "inet filter input handle 7: udp dport 41641 accept". */
  decidedBy: string;
  /** Why the verdict is unknown. */
  reason?: string;
  /** The packet the question was asked with (absent when there was none to ask, e.g. no IPv6). */
  packet?: PacketSpec;
}

/**
 * Why no ruleset could be read. needs-cap-net-admin: the tool was refused and this process lacks
 * CAP_NET_ADMIN; no-ruleset-tool: neither nft nor iptables-legacy-save is installed;
 * ruleset-read-failed: a tool failed (or timed out) for another reason.
 */
export const RULESET_FAILURES = ["needs-cap-net-admin", "no-ruleset-tool", "ruleset-read-failed"] as const;
export type RulesetFailure = (typeof RULESET_FAILURES)[number];

export interface FirewallState {
  state: "ok";
  /** The UDP port the checks asked about. */
  port: number;
  /** Where the port came from: config, tailscaled's Self.Addrs, its UDP socket, PORT in /etc/default/tailscaled, or the default. */
  portSource: "config" | "localapi" | "socket" | "defaults-file" | "default";
  /** Which rulesets were read: nftables, iptables-legacy, both joined by +, or none. */
  backend: string;
  checks: FirewallCheck[];
  notes: string[];
  /** Present when no ruleset could be read: every verdict is then unknown, for this reason. */
  unreadable?: { code: RulesetFailure; error: string };
}

export const FIREWALL_FAILURES = [...PROBE_FAILURES] as const;
export type FirewallFailure = (typeof FIREWALL_FAILURES)[number];

export type FirewallPart = FirewallState | Unavailable<FirewallFailure>;

/**
 * The questions `firewall check` asks (agent/firewall/questions.ts), as stable ids. Each has its
 * MIB object (new ones get the next free sub-identifier: existing OIDs never move), its words in
 * doctor's findings and in the receiver's alert.
 */
export const FIREWALL_CHECK_IDS = ["inbound-ipv6", "inbound-ipv4", "outbound-ipv6", "outbound-ipv4", "forward-ipv6", "forward-ipv4"] as const;
export type FirewallCheckId = (typeof FIREWALL_CHECK_IDS)[number];

interface CheckDefinition {
  object: string;
  oid: number;
  description: string;
  /** How doctor names it: "tailscaled's UDP 41641 passes ... in over IPv6". */
  label: string;
  /** How the alert names the packet: "the firewall drops <words> tailscaled's port 41641". */
  words: string;
}

export const FIREWALL_CHECKS: Record<FirewallCheckId, CheckDefinition> = {
  "inbound-ipv6": { object: "edgeAgentFirewallInboundIpv6", oid: 14, label: "in over IPv6", words: "new inbound IPv6 UDP to", description: "The local firewall's verdict on a new inbound IPv6 UDP datagram to tailscaled's port." },
  "inbound-ipv4": { object: "edgeAgentFirewallInboundIpv4", oid: 15, label: "in over IPv4", words: "new inbound IPv4 UDP to", description: "The local firewall's verdict on a new inbound IPv4 UDP datagram to tailscaled's port." },
  "outbound-ipv6": { object: "edgeAgentFirewallOutboundIpv6", oid: 16, label: "out over IPv6", words: "new outbound IPv6 UDP from", description: "The local firewall's verdict on a new outbound IPv6 UDP datagram from tailscaled's port." },
  "outbound-ipv4": { object: "edgeAgentFirewallOutboundIpv4", oid: 17, label: "out over IPv4", words: "new outbound IPv4 UDP from", description: "The local firewall's verdict on a new outbound IPv4 UDP datagram from tailscaled's port." },
  "forward-ipv6": { object: "edgeAgentFirewallForwardIpv6", oid: 18, label: "forwarded over IPv6", words: "forwarded IPv6 UDP for the configured prefixes to", description: "On a router: the verdict on forwarding tailscaled's UDP for the configured prefixes; unknown when none are configured." },
  "forward-ipv4": { object: "edgeAgentFirewallForwardIpv4", oid: 24, label: "forwarded over IPv4", words: "forwarded IPv4 UDP for the configured prefixes to", description: "On a router: the verdict on forwarding tailscaled's UDP for the configured IPv4 prefixes; unknown when none are configured." },
};

export function isFirewallCheckId(id: string): id is FirewallCheckId {
  return Object.prototype.hasOwnProperty.call(FIREWALL_CHECKS, id);
}

export const VERDICT_VALUES = { unknown: 0, accept: 1, drop: 2 } as const;

function judged(state: NodeState): FirewallState | null {
  return state.firewall && state.firewall.state === "ok" ? state.firewall : null;
}

function verdictOf(state: NodeState, id: FirewallCheckId): string {
  return judged(state)?.checks.find((c) => c.id === id)?.verdict ?? "unknown";
}

function key(state: NodeState): string {
  const f = state.firewall;
  if (!f) return "absent";
  if (f.state === "unavailable") return "unavailable";
  return JSON.stringify([f.port, f.checks.map((c) => `${c.id}=${c.verdict}`).sort()]);
}

function describe(state: NodeState, why = false): string {
  const f = state.firewall;
  if (!f) return "firewall verdicts unavailable";
  if (f.state === "unavailable") return `firewall verdicts unavailable${because(f.error, why)}`;
  return `firewall on UDP ${f.port}: ${f.checks.map((c) => `${c.id} ${c.verdict}`).join(", ")}`;
}

const objects: StateObject[] = [
  { name: "edgeAgentFirewallPort", id: 13, access: "read-only", syntax: { kind: "Unsigned32" }, description: "The UDP port of tailscaled that the firewall verdicts are about; 0 when unknown.", value: (s) => judged(s)?.port ?? 0 },
  ...FIREWALL_CHECK_IDS.map((id): StateObject => {
    const c = FIREWALL_CHECKS[id];
    return { name: c.object, id: c.oid, access: "read-only", syntax: { kind: "Enum", values: VERDICT_VALUES }, description: c.description, value: (s) => verdictOf(s, id) };
  }),
];

function alerts(v: ObjectValues, node: string): Alert[] {
  const port = typeof v.edgeAgentFirewallPort === "number" && v.edgeAgentFirewallPort > 0 ? v.edgeAgentFirewallPort : "?";
  return FIREWALL_CHECK_IDS.filter((check) => v[FIREWALL_CHECKS[check].object] === "drop").map((check) => ({
    labels: { alertname: "EdgeFirewallBlocksTailscale", node, check, severity: "warning" },
    annotations: {
      summary: `${node}: the firewall drops ${FIREWALL_CHECKS[check].words} tailscaled's port ${port}`,
      description: `Tailscale cannot go direct through this rule and falls back to a DERP relay. Run \`edge-agent firewall check\` on ${node} to see the rule that decides it.`,
    },
  }));
}

export const firewallPart: PartDefinition = {
  part: "firewall",
  failures: FIREWALL_FAILURES,
  objects,
  series: [
    { name: "edge_agent_firewall_udp_port", help: "The UDP port the firewall verdicts are about.", labels: [] },
    { name: "edge_agent_firewall_verdict", help: "Always 1; verdict is the firewall's verdict (accept, drop, unknown) for each check.", labels: ["check", "verdict"] },
    { name: "edge_agent_firewall_accepts", help: "Whether the firewall accepts tailscaled's UDP for a check (absent when undecided).", labels: ["check"] },
  ],
  textfile: (state, out) => {
    if (state.firewall) out.set("edge_agent_probe_up", { probe: "firewall" }, state.firewall.state === "ok" ? 1 : 0);
    const fw = judged(state);
    out.setOptional("edge_agent_firewall_udp_port", fw ? fw.port : null);
    if (!fw) return;
    const checks = new Map(fw.checks.map((c) => [c.id, c.verdict]));
    // The known checks in their order, then any the probe asked that this build has no id for.
    for (const check of new Set([...FIREWALL_CHECK_IDS.filter((id) => checks.has(id)), ...checks.keys()])) {
      const verdict = checks.get(check) ?? "unknown";
      out.set("edge_agent_firewall_verdict", { check, verdict }, 1);
      if (verdict !== "unknown") out.set("edge_agent_firewall_accepts", { check }, verdict === "accept" ? 1 : 0);
    }
  },
  notifications: [{ name: "edgeAgentFirewallChanged", id: 8, event: "firewallChanged", description: "A firewall verdict on tailscaled's UDP port changed, or the port did." }],
  events: (prev, next) => (key(prev) !== key(next) ? [{ kind: "firewallChanged", summary: `${describe(next, true)} (was: ${describe(prev)})` }] : []),
  problemsAtStart: (state) => (state.firewall?.state === "unavailable" ? [describe(state, true)] : []),
  status: ({ firewall: fw }) => {
    if (fw.state === "unavailable") return [`firewall  unavailable: ${fw.error}`];
    return [
      `firewall  UDP ${fw.port} (${fw.portSource}), rulesets: ${fw.backend}`,
      ...fw.checks.map((c) => `          ${c.id.padEnd(13)} ${c.verdict.toUpperCase().padEnd(7)} ${c.verdict === "unknown" ? c.reason ?? c.decidedBy : c.decidedBy}`),
      ...fw.notes.map((note) => `          note: ${note}`),
    ];
  },
  fleetInfo: [],
  page: [
    {
      heading: "Firewall",
      lines: (v) => [
        { label: "UDP port", value: typeof v.edgeAgentFirewallPort === "number" && v.edgeAgentFirewallPort > 0 ? String(v.edgeAgentFirewallPort) : "unknown", tone: "none" },
        ...FIREWALL_CHECK_IDS.map((check) => verdictLine(check, v[FIREWALL_CHECKS[check].object])),
      ],
    },
  ],
  fleet: [
    verdictFamily(
      "edge_fleet_node_firewall_verdict",
      "Always 1; verdict is the node's firewall verdict (drop under receiver.nodeSeries problems; accept, drop, unknown under all) on tailscaled's UDP port for each check.",
      "check",
      FIREWALL_CHECK_IDS,
      (check) => FIREWALL_CHECKS[check].object,
      { name: "edge_fleet_nodes_by_firewall_verdict", help: "Nodes per firewall check and verdict (accept, drop, unknown) on tailscaled's UDP port." },
    ),
  ],
  alerts,
};
