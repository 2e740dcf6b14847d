// The address checks: a global IPv6 /64 inside the operator's allocation (`ipv6-prefix`), and
// what the host's IPv4 means for direct paths (`ipv4-nat`): only NATed IPv4 and no global IPv6
// means tailnet traffic goes through a DERP relay.
import ipaddr from "ipaddr.js";
import type { Ipv6Failure, Ipv6Part, Ipv6Prefix } from "../../state/ipv6";
import { SELF } from "../../self-command";
import { nodeStateTimeout, type Check } from "../check";
import { IPV4_KIND_WORDS, unrouted, type Ipv4Address } from "../../probes/ipv4";
import { fail, ok, warn, type Finding } from "../finding";

const RA_FIX = "give this host's subnet a global /64 by router advertisements (then `ip -6 addr show scope global` lists it)";

function containing(prefix: string, allocations: string[]): string | null {
  const net = ipaddr.parseCIDR(prefix)[0];
  return allocations.find((a) => {
    const [base, len] = ipaddr.parseCIDR(a);
    return base.kind() === "ipv6" && (net as ipaddr.IPv6).match(base as ipaddr.IPv6, len);
  }) ?? null;
}

function usable(p: Ipv6Prefix): boolean {
  return p.addresses.some((a) => !a.flags.some((f) => f === "deprecated" || f === "tentative" || f === "dadfailed"));
}

/** What to do about each way the address probe can fail; the type makes a new code need one. */
const IPV6_FIXES: Record<Ipv6Failure, string> = {
  "ipv6-disabled": "sudo sysctl net.ipv6.conf.all.disable_ipv6=0",
  unreadable: `ls -l /proc/net/if_inet6 (the user edge-agent runs as must be able to read it), then: ${SELF} doctor --check ipv6-prefix`,
  timeout: `the host is too loaded to answer within probes.timeout: raise it, then: ${SELF} doctor --check ipv6-prefix`,
  "probe-error": `${SELF} doctor --check ipv6-prefix`,
};

export function judgeIpv6Prefix(ipv6: Ipv6Part, allocations: string[]): Finding {
  if (ipv6.state === "unavailable") return warn(ipv6.code === "ipv6-disabled" ? `no IPv6: ${ipv6.error}` : `cannot tell: ${ipv6.error}`, IPV6_FIXES[ipv6.code]);
  const primary = ipv6.prefixes.find((p) => p.prefix === ipv6.primary);
  if (!primary) return warn("no global IPv6 address: tailnet paths can go direct only over IPv4", RA_FIX);
  const where = `${primary.prefix} on ${primary.interface}`;
  if (primary.inAllocation === false)
    return fail(`${where} lies outside ipv6.allocations (${allocations.join(", ")})`, `fix the router advertisement for ${primary.interface}'s subnet, or if the prefix is yours: ipv6: { allocations: [${[...allocations, primary.prefix].join(", ")}] }`);
  if (!usable(primary)) {
    const flags = [...new Set(primary.addresses.flatMap((a) => a.flags))].join(", ");
    return warn(`${where} has no usable address (${flags})`, `ip -6 addr show dev ${primary.interface} (a deprecated prefix is being withdrawn by the router; tentative means DAD has not finished)`);
  }
  if (primary.inAllocation === null) return ok(`${where} (no ipv6.allocations configured to check it against)`);
  return ok(`${where}, inside ${containing(primary.prefix, allocations) ?? "an allocation"}`);
}

export function judgeIpv4Nat(ipv4: Ipv4Address[], ipv6: Ipv6Part): Finding {
  const hasV6 = ipv6.state === "ok" && ipv6.prefixes.some(usable);
  const list = (kind: Ipv4Address["kind"]) => ipv4.filter((a) => a.kind === kind).map((a) => `${a.address} on ${a.interface}`);
  const pub = list("public");
  if (pub.length) return ok(`public IPv4 ${pub.join(", ")}`);
  // The firewall probe asks its IPv4 questions with these same addresses (probes/ipv4.ts).
  const kind = (["cgnat", "private", "documentation", "reserved"] as const).find((k) => list(k).length);
  if (!kind) {
    return hasV6 ? ok("no IPv4 address outside the tailnet: IPv6-only host") : warn("no IPv4 and no global IPv6 address: nothing but a relay can reach this host", RA_FIX);
  }
  const where = `${IPV4_KIND_WORDS[kind]} (${list(kind).join(", ")})`;
  if (hasV6) return ok(`IPv4 only ${where}${unrouted(kind) ? ", which the internet does not route" : ""}; the global IPv6 /64 keeps tailnet paths direct`);
  const behind = unrouted(kind) ? `${where}, which the internet does not route,` : where;
  return kind === "cgnat"
    ? warn(`IPv4 only ${behind} and no global IPv6: paths to the scraper will go relayed through DERP`, RA_FIX)
    : warn(`IPv4 only ${behind} and no global IPv6: direct paths depend on NAT traversal and go relayed behind a hard NAT`, RA_FIX);
}

export const ipv6PrefixCheck: Check = {
  id: "ipv6-prefix",
  group: "addresses",
  scope: "any",
  summary: "a global IPv6 /64 is present and inside ipv6.allocations",
  timeoutMs: nodeStateTimeout,
  run: async (ctx) => judgeIpv6Prefix((await ctx.nodeState()).ipv6, ctx.config.ipv6.allocations),
};

export const ipv4NatCheck: Check = {
  id: "ipv4-nat",
  group: "addresses",
  scope: "any",
  summary: "IPv4 only behind (carrier-grade) NAT with no global IPv6 means relayed paths",
  timeoutMs: nodeStateTimeout,
  run: async (ctx) => judgeIpv4Nat(await ctx.hostIpv4(), (await ctx.nodeState()).ipv6),
};
