// The `firewall` part of NodeState: the local firewall's verdicts on tailscaled's UDP port.
import type { PacketSpec } from "../firewall/packet";
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
  /** Where the port came from: config, tailscaled's Self.Addrs, its UDP socket, or the default. */
  portSource: "config" | "localapi" | "socket" | "default";
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
