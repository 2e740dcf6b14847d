// Does a policy selector (src, or an acls/grants dst target) name a device that carries one given
// tag? Offline there are no addresses, so an address or host alias decides only when it covers
// every Tailscale address (then yes) or none of them (then no); in between it is "maybe".
import ipaddr from "ipaddr.js";
import type { Policy } from "./policy-file";

/**
 * yes, no, or maybe with why. `family` marks a maybe that is a yes for every Tailscale address
 * of that family (100.64.0.0/10 alone): a list holding both families' ranges is a yes.
 */
export type Match = { result: "yes" } | { result: "no" } | { result: "maybe"; why: string; family?: "ipv4" | "ipv6" };

/** The best of a selector list: any yes, both families' halves, else a maybe, else no. */
export function bestMatch(matches: Match[]): Match {
  if (matches.some((m) => m.result === "yes")) return { result: "yes" };
  const halves = new Set(matches.map((m) => (m.result === "maybe" ? m.family : undefined)).filter((f) => f !== undefined));
  if (halves.size === 2) return { result: "yes" };
  return matches.find((m) => m.result === "maybe") ?? { result: "no" };
}

/** The address ranges Tailscale hands its nodes (CGNAT IPv4 and its IPv6 ULA). */
const TAILNET_RANGES: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [ipaddr.parseCIDR("100.64.0.0/10"), ipaddr.parseCIDR("fd7a:115c:a1e0::/48")];

/** Autogroups that hold tagged devices: tagged devices are not members, nor anyone's "self". */
const TAGGED_AUTOGROUPS = ["tagged", "danger-all"];

/** An address, CIDR or a-b range as [first, last] in one family, or null if it is none. */
function addressRange(text: string): { kind: "ipv4" | "ipv6"; first: bigint; last: bigint } | null {
  const toBig = (a: ipaddr.IPv4 | ipaddr.IPv6) => a.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
  try {
    if (text.includes("/")) {
      const [addr, bits] = ipaddr.parseCIDR(text);
      const width = addr.kind() === "ipv4" ? 32 : 128;
      const first = toBig(addr) & ~((1n << BigInt(width - bits)) - 1n);
      return { kind: addr.kind(), first, last: first + (1n << BigInt(width - bits)) - 1n };
    }
    if (text.includes("-")) {
      const [a, b] = text.split("-").map((s) => ipaddr.parse(s));
      if (a.kind() !== b.kind()) return null;
      return { kind: a.kind(), first: toBig(a), last: toBig(b) };
    }
    if (ipaddr.isValid(text)) {
      const a = ipaddr.parse(text);
      return { kind: a.kind(), first: toBig(a), last: toBig(a) };
    }
  } catch {
    return null;
  }
  return null;
}

/** A family's half-yes when the addresses hold every Tailscale address of it, no when they hold none. */
function addressMatch(text: string, shown: string, tag: string): Match {
  const range = addressRange(text);
  if (!range) return { result: "maybe", why: `${tag} is in ${shown}, which edge-agent cannot read as addresses` };
  for (const cidr of TAILNET_RANGES) {
    const r = addressRange(`${cidr[0].toString()}/${cidr[1]}`)!;
    if (r.kind !== range.kind) continue;
    if (range.first <= r.first && r.last <= range.last) return { result: "maybe", why: `it goes over ${range.kind === "ipv4" ? "IPv4" : "IPv6"}: ${shown} holds no Tailscale address of the other family`, family: range.kind };
    if (range.first <= r.last && r.first <= range.last) return { result: "maybe", why: `${tag}'s address is in ${shown}, which a policy file cannot say` };
  }
  return { result: "no" };
}

export function matchSelector(selector: string, tag: string, policy: Policy): Match {
  if (selector === "*") return { result: "yes" };
  if (selector.startsWith("tag:")) return { result: selector === tag ? "yes" : "no" };
  if (selector.startsWith("autogroup:")) return { result: TAGGED_AUTOGROUPS.includes(selector.slice("autogroup:".length)) ? "yes" : "no" };
  if (selector.startsWith("group:")) {
    // Groups hold users; a device that carries a tag belongs to no user any more.
    return bestMatch((policy.groups[selector] ?? []).map((m) => (m.value.startsWith("group:") ? ({ result: "no" } as Match) : matchSelector(m.value, tag, policy))));
  }
  if (selector.includes("@")) return { result: "no" };
  if (selector.startsWith("ipset:")) return { result: "maybe", why: `${tag} is in ${selector} (edge-agent does not evaluate ipsets)` };
  const host = policy.hosts[selector];
  if (host) return addressMatch(host.value, `${selector} (${host.value})`, tag);
  return addressMatch(selector, selector, tag);
}
