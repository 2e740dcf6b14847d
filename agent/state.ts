// NodeState: the one snapshot of a host that the probes produce and every output reads.
// `status --json` prints it as is, so its shape is a public contract (DESIGN.md).

import type { PacketSpec } from "./firewall/packet";

/** What a probe returns when its source could not be read: failure as data, never a throw. */
export interface Unavailable {
  state: "unavailable";
  error: string;
}

export interface HostInfo {
  state: "ok";
  hostname: string;
  os: string;
  kernel: string;
  model: string;
  arch: string;
}

/** Kernel address flags as /proc/net/if_inet6 reports them. */
export type AddressFlag = "temporary" | "nodad" | "optimistic" | "dadfailed" | "homeaddress" | "deprecated" | "tentative" | "permanent";

export interface Ipv6Address {
  address: string;
  prefixLength: number;
  flags: AddressFlag[];
}

export interface Ipv6Prefix {
  /** The /64 the addresses lie in, canonical form, e.g. 2001:db8:100:1::/64. */
  prefix: string;
  interface: string;
  addresses: Ipv6Address[];
  /** Inside one of `ipv6.allocations`; null when no allocation is configured. */
  inAllocation: boolean | null;
}

export interface Ipv6State {
  state: "ok";
  prefixes: Ipv6Prefix[];
  /** The prefix the host is best reached on, or null when it has no usable global /64. */
  primary: string | null;
}

export type ScraperPath = "direct" | "relay" | "peer-relay" | "idle" | "offline" | "unknown";

export interface ScraperPeer {
  /** The peer that matched `scraper`, or null when none did. */
  found: boolean;
  hostname: string | null;
  dnsName: string | null;
  ips: string[];
  online: boolean;
  path: ScraperPath;
  /** ip:port of the direct UDP path, when direct. */
  endpoint: string | null;
  /** Address family of the direct path. */
  family: "ipv6" | "ipv4" | null;
  /** DERP region code when relayed (or the peer relay's address for peer-relay). */
  relay: string | null;
  latencyMs: number | null;
  /** Why the path could not be decided, when it could not. */
  error?: string;
}

export interface TailnetState {
  /** tailscaled's BackendState (Running, NeedsLogin, Stopped, ...). */
  state: string;
  source: "localapi" | "cli";
  version: string;
  hostname: string;
  dnsName: string;
  ips: string[];
  tags: string[];
  missingTags: string[];
  /** The UDP port tailscaled bound, from Self.Addrs; null when it lists none. */
  port: number | null;
  health: string[];
  scraper: ScraperPeer;
}

export interface TailnetUnavailable extends Unavailable {
  missingTags: string[];
}

export interface NodeExporterState {
  url: string;
  up: boolean;
  version: string | null;
  /** Answers on the host's Tailscale IP too; null when there is no Tailscale IP to try. */
  tailnetReachable: boolean | null;
  error?: string;
  tailnetError?: string;
}

export interface SnmpdState {
  target: string;
  up: boolean;
  sysDescr: string | null;
  sysUpTimeSeconds: number | null;
  tailnetReachable: boolean | null;
  error?: string;
  tailnetError?: string;
}

export interface ServicesState {
  nodeExporter: NodeExporterState;
  snmpd: SnmpdState;
}

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
}

export interface NodeState {
  agent: { version: string };
  collectedAt: string;
  host: HostInfo | Unavailable;
  ipv6: Ipv6State | Unavailable;
  tailnet: TailnetState | TailnetUnavailable;
  services: ServicesState;
  firewall: FirewallState | Unavailable;
}

/**
 * The tailnet part when tailscaled answered, else null. Its `state` is tailscaled's free-form
 * BackendState, so TypeScript cannot narrow the union on `state === "unavailable"` by itself.
 */
export function runningTailnet(tailnet: TailnetState | TailnetUnavailable): TailnetState | null {
  return tailnet.state === "unavailable" ? null : (tailnet as TailnetState);
}

export function isAvailable<T extends object>(part: T | Unavailable): part is T {
  return (part as Unavailable).state !== "unavailable";
}
