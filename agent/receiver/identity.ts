// Who sent it: does a notification's claimed node match the address it came from? Pure: the
// tailscaled answer (whois) is looked up by the caller and passed in.
//
// Rules, in order (README "Receiver limits and identity"):
// 1. `receiver.allowSources` set: the source must lie in one of those prefixes.
// 2. tailscaled answered whois for the source: the node that owns the source address must be
//    the node the notification names (edgeAgentTailnetName), case-insensitively.
// 3. Loopback passes (a sender on the scraper itself).
// 4. tailscaled says the source is no tailnet node: a mismatch, since notifications are meant to
//    cross the tailnet.
// 5. No tailscaled to ask (no socket, or it failed): what the notification claims cannot be
//    checked, so only what was verified before counts. A node already in the fleet is accepted
//    from the source it was last accepted from (its binding) and from no other. A node not yet
//    in the fleet is accepted only from `receiver.allowSources` (the operator vouches for those
//    prefixes; the first report binds the node to its source), or, when the operator relaxed it
//    with `receiver.trustClaimedAddresses`, from one of the Tailscale addresses it claims; and
//    in both cases only from a source no other node is bound to (a tailnet node has addresses
//    of its own, so one peer cannot mint nodes). Anything else is refused as unverified.
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
  | { ok: true; how: "whois" | "loopback" | "binding" | "allowed-source" | "claimed-address" }
  | { ok: false; reason: "source_not_allowed" | "identity_mismatch" | "unverified"; detail: string };

export interface IdentityPolicy {
  allowSources: string[];
  trustClaimedAddresses: boolean;
}

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

const loopbackCache = new Map<string, boolean>();

/** Asked for every notification's source: remembered, bounded like canonicalAddress's cache. */
export function isLoopback(address: string): boolean {
  const cached = loopbackCache.get(address);
  if (cached !== undefined) return cached;
  let result: boolean;
  try {
    result = ipaddr.process(canonicalAddress(address)).range() === "loopback";
  } catch {
    result = false;
  }
  if (loopbackCache.size >= 4096) loopbackCache.clear();
  loopbackCache.set(address, result);
  return result;
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

/**
 * `boundSource`: the source the claimed node was last accepted from, or null for a new node;
 * `sourceNode`: the node last accepted from this source, if any.
 */
export function checkIdentity(source: string, claim: Claim, policy: IdentityPolicy, whois: WhoisResult, boundSource: string | null, sourceNode: string | null = null): IdentityVerdict {
  const from = canonicalAddress(source);
  if (policy.allowSources.length > 0 && !inPrefixes(from, policy.allowSources))
    return { ok: false, reason: "source_not_allowed", detail: `source ${from} is not in receiver.allowSources` };
  const claimed = claim.tailnetName || claim.hostName || "(no name)";
  if (whois.kind === "node") {
    if (claim.tailnetName && bareName(whois.name) === bareName(claim.tailnetName)) return { ok: true, how: "whois" };
    return { ok: false, reason: "identity_mismatch", detail: `source ${from} is tailnet node ${bareName(whois.name)}, but the notification claims to come from ${claimed}` };
  }
  if (isLoopback(from)) return { ok: true, how: "loopback" };
  if (whois.kind === "no-match")
    return { ok: false, reason: "identity_mismatch", detail: `source ${from} is not a node of this tailnet (tailscaled whois has no match), but the notification claims to come from ${claimed}` };
  if (boundSource !== null) {
    if (canonicalAddress(boundSource) === from) return { ok: true, how: "binding" };
    return { ok: false, reason: "identity_mismatch", detail: `${claimed} was last accepted from ${canonicalAddress(boundSource)}, not ${from}, and tailscaled cannot be asked (${whois.error})` };
  }
  if (sourceNode !== null && (policy.allowSources.length > 0 || policy.trustClaimedAddresses))
    return { ok: false, reason: "identity_mismatch", detail: `source ${from} already speaks for node ${sourceNode}, so it cannot also be the new node ${claimed} while tailscaled cannot be asked (${whois.error})` };
  if (policy.allowSources.length > 0) return { ok: true, how: "allowed-source" };
  if (policy.trustClaimedAddresses && claim.addresses.map(canonicalAddress).includes(from)) return { ok: true, how: "claimed-address" };
  return {
    ok: false,
    reason: "unverified",
    detail: `cannot verify that source ${from} is ${claimed}: tailscaled cannot be asked (${whois.error}) and the node is new (set receiver.allowSources to vouch for the tailnet's prefixes, or make tailscaled answer)`,
  };
}
