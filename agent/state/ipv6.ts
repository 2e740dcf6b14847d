// The `ipv6` part of NodeState: the host's global IPv6 /64s and the one it is best reached on.
import { because, text, type PartDefinition } from "./fact";
import type { NodeState } from "./node-state";
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

export const ALLOCATION_VALUES = { unknown: 0, inside: 1, outside: 2 } as const;

/** The primary /64's entry, when there is one. */
function primaryPrefix(state: NodeState): Ipv6Prefix | undefined {
  const ipv6 = state.ipv6;
  return ipv6.state === "ok" ? ipv6.prefixes.find((p) => p.prefix === ipv6.primary) : undefined;
}

function inAllocation(state: NodeState): "inside" | "outside" | "unknown" {
  const primary = primaryPrefix(state);
  if (!primary || primary.inAllocation === null) return "unknown";
  return primary.inAllocation ? "inside" : "outside";
}

/** The facts whose change is an addressChanged event: the primary /64 and the set of /64s. */
function key(state: NodeState): string {
  if (state.ipv6.state === "unavailable") return "unavailable";
  return JSON.stringify([state.ipv6.primary, state.ipv6.prefixes.map((p) => `${p.interface} ${p.prefix} ${p.inAllocation}`).sort()]);
}

function describe(state: NodeState, why = false): string {
  if (state.ipv6.state === "unavailable") return `IPv6 addresses unavailable${because(state.ipv6.error, why)}`;
  if (!state.ipv6.primary) return "no global IPv6 /64";
  return `primary /64 ${state.ipv6.primary}`;
}

export const ipv6Part: PartDefinition = {
  part: "ipv6",
  failures: IPV6_FAILURES,
  objects: [
    { name: "edgeAgentPrimaryPrefix", id: 6, access: "read-only", syntax: { kind: "DisplayString", size: [0, 64] }, description: "The node's primary global IPv6 /64 in CIDR notation; empty when it has none.", value: (s) => (s.ipv6.state === "ok" ? s.ipv6.primary ?? "" : "") },
    { name: "edgeAgentPrefixInAllocation", id: 7, access: "read-only", syntax: { kind: "Enum", values: ALLOCATION_VALUES }, description: "Whether the primary /64 lies inside one of the operator's configured allocations; unknown when none is configured or the node has no /64.", value: inAllocation },
  ],
  series: [
    { name: "edge_agent_ipv6_prefix_info", help: "A global IPv6 /64 on this host (always 1); in_allocation is true, false or unknown (no allocation configured).", labels: ["prefix", "interface", "in_allocation", "primary"] },
    { name: "edge_agent_ipv6_global_prefixes", help: "How many global IPv6 /64s the host has.", labels: [] },
    { name: "edge_agent_ipv6_primary_in_allocation", help: "Whether the primary /64 lies inside a configured allocation (absent when unknown).", labels: [] },
  ],
  textfile: (state, out) => {
    out.set("edge_agent_probe_up", { probe: "ipv6" }, state.ipv6.state === "ok" ? 1 : 0);
    if (state.ipv6.state === "ok") {
      const ipv6 = state.ipv6;
      for (const p of ipv6.prefixes) {
        const allocation = p.inAllocation === null ? "unknown" : String(p.inAllocation);
        out.set("edge_agent_ipv6_prefix_info", { prefix: p.prefix, interface: p.interface, in_allocation: allocation, primary: String(p.prefix === ipv6.primary) }, 1);
      }
      out.set("edge_agent_ipv6_global_prefixes", {}, ipv6.prefixes.length);
    }
    const allocation = inAllocation(state);
    out.setOptional("edge_agent_ipv6_primary_in_allocation", allocation === "unknown" ? null : allocation === "inside" ? 1 : 0);
  },
  notifications: [{ name: "edgeAgentAddressChanged", id: 3, event: "addressChanged", description: "The node's global IPv6 /64s or its primary /64 changed." }],
  events: (prev, next) => (key(prev) !== key(next) ? [{ kind: "addressChanged", summary: `${describe(next, true)} (was: ${describe(prev)})` }] : []),
  problemsAtStart: (state) => (state.ipv6.state === "unavailable" ? [describe(state, true)] : []),
  status: ({ ipv6: v6 }) => {
    if (v6.state === "unavailable") return [`ipv6      unavailable: ${v6.error}`];
    if (v6.prefixes.length === 0) return ["ipv6      no global IPv6 address"];
    const lines = [`ipv6      primary ${v6.primary ?? "none"}`];
    for (const p of v6.prefixes) {
      const alloc = p.inAllocation === null ? "" : p.inAllocation ? " (in allocation)" : " (OUTSIDE the allocations)";
      lines.push(`          ${p.prefix} on ${p.interface}${alloc}`);
      for (const a of p.addresses) lines.push(`            ${a.address}/${a.prefixLength}${a.flags.length ? ` [${a.flags.join(", ")}]` : ""}`);
    }
    return lines;
  },
  fleetInfo: [
    { label: "prefix", object: "edgeAgentPrimaryPrefix", fallback: "", position: 4, problem: (prefix) => prefix === "" },
    { label: "prefix_in_allocation", object: "edgeAgentPrefixInAllocation", fallback: "unknown", position: 5, counted: true, problem: (inside) => inside === "outside" },
  ],
  fleet: [],
  page: [
    {
      heading: "/64",
      lines: (v) => {
        const prefix = text(v.edgeAgentPrimaryPrefix);
        const allocation = text(v.edgeAgentPrefixInAllocation) || "unknown";
        return [
          prefix ? { label: "", value: prefix, tone: "none" } : { label: "", value: "none", tone: "bad" },
          { label: "allocation", value: allocation, tone: allocation === "inside" ? "ok" : allocation === "outside" ? "bad" : "none" },
        ];
      },
    },
  ],
  alerts: () => [],
};
