// Who sent it: does a notification's claimed node match the address it came from? Pure: the
// tailscaled answer (whois) is looked up by the caller and passed in.
//
// Rules, in order:
// 1. `receiver.allowSources` set: the source must lie in one of those prefixes.
// 2. tailscaled answered whois for the source: the node that owns the source address must be
//    the node the notification names (edgeAgentTailnetName), case-insensitively.
// 3. tailscaled says the source is no tailnet node: only loopback passes (a sender on the scraper
//    itself); anything else is a mismatch, since notifications are meant to cross the tailnet.
// 4. No tailscaled to ask (no socket, or it failed): the source must be one of the Tailscale
//    addresses the notification claims (edgeAgentTailnetAddresses), or loopback.
import ipaddr from "ipaddr.js";

export interface Claim {
  tailnetName: string;
  hostName: string;
  addresses: string[];
}

/** What tailscaled knows about a source address. */
export type WhoisResult =
  | { kind: "node"; name: string; addresses: string[] }
  | { kind: "no-match" }
  | { kind: "unavailable"; error: string };

export type IdentityVerdict =
  | { ok: true; how: "whois" | "claimed-address" | "loopback" }
  | { ok: false; reason: "source_not_allowed" | "identity_mismatch"; detail: string };

/** Canonical text of an address; IPv4-mapped IPv6 (from a dual-stack socket) becomes IPv4. */
const canonicalCache = new Map<string, string>();

export function canonicalAddress(address: string): string {
  const cached = canonicalCache.get(address);
  if (cached !== undefined) return cached;
  const result = canonicalUncached(address);
  // Bounded: sources are few in a fleet, but a flood from many addresses must not grow it.
  if (canonicalCache.size >= 4096) canonicalCache.clear();
  canonicalCache.set(address, result);
  return result;
}

function canonicalUncached(address: string): string {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  try {
    return ipaddr.process(bare).toString();
  } catch {
    return bare.toLowerCase();
  }
}

export function isLoopback(address: string): boolean {
  try {
    return ipaddr.process(canonicalAddress(address)).range() === "loopback";
  } catch {
    return false;
  }
}

export function inPrefixes(address: string, prefixes: string[]): boolean {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(canonicalAddress(address));
  } catch {
    return false;
  }
  return prefixes.some((prefix) => {
    try {
      const [network, length] = ipaddr.parseCIDR(prefix);
      return network.kind() === addr.kind() && addr.match([network, length] as [typeof addr, number]);
    } catch {
      return false;
    }
  });
}

const bareName = (name: string): string => name.trim().replace(/\.$/, "").toLowerCase();

export function checkIdentity(source: string, claim: Claim, allowSources: string[], whois: WhoisResult): IdentityVerdict {
  const from = canonicalAddress(source);
  if (allowSources.length > 0 && !inPrefixes(from, allowSources))
    return { ok: false, reason: "source_not_allowed", detail: `source ${from} is not in receiver.allowSources` };
  const claimed = claim.tailnetName || claim.hostName || "(no name)";
  if (whois.kind === "node") {
    if (claim.tailnetName && bareName(whois.name) === bareName(claim.tailnetName)) return { ok: true, how: "whois" };
    return { ok: false, reason: "identity_mismatch", detail: `source ${from} is tailnet node ${bareName(whois.name)}, but the notification claims to come from ${claimed}` };
  }
  if (isLoopback(from)) return { ok: true, how: "loopback" };
  if (whois.kind === "no-match")
    return { ok: false, reason: "identity_mismatch", detail: `source ${from} is not a node of this tailnet (tailscaled whois has no match), but the notification claims to come from ${claimed}` };
  if (claim.addresses.map(canonicalAddress).includes(from)) return { ok: true, how: "claimed-address" };
  return { ok: false, reason: "identity_mismatch", detail: `source ${from} is not one of the Tailscale addresses ${claimed} claims (${claim.addresses.join(",") || "none"})` };
}
