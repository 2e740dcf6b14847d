// NodeState: the one snapshot of a host that the probes produce and every output reads. Each
// part is defined in its own file beside this one; `status --json` prints the snapshot as is, so
// its shape is a public contract (DESIGN.md).
import type { FirewallPart } from "./firewall";
import type { HostPart } from "./host";
import type { Ipv6Part } from "./ipv6";
import type { ServicesState } from "./services";
import type { TailnetPart } from "./tailnet";

export type { FirewallCheck, FirewallFailure, FirewallState, RulesetFailure } from "./firewall";
export type { HostFailure, HostInfo } from "./host";
export type { AddressFlag, Ipv6Address, Ipv6Failure, Ipv6Prefix, Ipv6State } from "./ipv6";
export type { NodeExporterState, ServiceFailure, ServicesState, SnmpdState } from "./services";
export type { ScraperPath, ScraperPeer, TailnetFailure, TailnetState, TailnetUnavailable } from "./tailnet";
export type { TailnetPolicy, TailnetPolicyFailure, TailnetPolicyState, TailnetPolicyUnavailable } from "./tailnet-policy";
export { runningTailnet, tailnetFailure } from "./tailnet";
export type { Unavailable } from "./unavailable";
export { isAvailable } from "./unavailable";

export interface NodeState {
  agent: { version: string };
  collectedAt: string;
  host: HostPart;
  ipv6: Ipv6Part;
  tailnet: TailnetPart;
  services: ServicesState;
  firewall: FirewallPart;
}
