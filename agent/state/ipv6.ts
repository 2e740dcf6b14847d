// The `ipv6` part of NodeState: the host's global IPv6 /64s and the one it is best reached on.
import { PROBE_FAILURES, type Unavailable } from "./unavailable";

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

/** ipv6-disabled: the kernel has no /proc/net/if_inet6; unreadable: it could not be read. */
export const IPV6_FAILURES = ["ipv6-disabled", "unreadable", ...PROBE_FAILURES] as const;
export type Ipv6Failure = (typeof IPV6_FAILURES)[number];

export type Ipv6Part = Ipv6State | Unavailable<Ipv6Failure>;
