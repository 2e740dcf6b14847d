// What a few matches need to know about the host besides the packet: its addresses and its
// routes. `-m addrtype`/`fib ... type` ask the route type of an address, `-m rpfilter`/`fib saddr
// . iif oif` ask whether the route back to the source leaves by the interface the packet came
// in on. Pure: the probe reads the addresses and /proc/net routes; a saved ruleset traced
// elsewhere has no host view, and then only what the packet itself says is decided.
import type { Route } from "../probes/routes";
import type { Packet } from "./packet";

export interface HostAddressEntry {
  family: "ipv4" | "ipv6";
  value: bigint;
  prefixLength: number;
}

export interface HostView {
  addresses: HostAddressEntry[];
  /** The main routing table (policy routing is not followed). */
  routes: Route[];
}

/** A result, or why the host view cannot give one. */
export type Answer<T> = { value: T } | { undecidable: string };

const V4_MULTICAST = 0xe0000000n;
const V4_BROADCAST = 0xffffffffn;

function isMulticast(family: "ipv4" | "ipv6", value: bigint): boolean {
  return family === "ipv4" ? (value & 0xf0000000n) === V4_MULTICAST : value >> 120n === 0xffn;
}

function bits(family: "ipv4" | "ipv6"): bigint {
  return family === "ipv4" ? 32n : 128n;
}

function routeValue(route: Route): bigint {
  let v = 0n;
  for (const b of route.destination) v = (v << 8n) | BigInt(b);
  return v;
}

function covers(route: Route, family: "ipv4" | "ipv6", value: bigint): boolean {
  if (route.family !== family) return false;
  const shift = bits(family) - BigInt(route.length);
  return route.length === 0 || routeValue(route) >> shift === value >> shift;
}

/** The routes of the longest prefix covering the address, lowest metric first. */
function longestMatch(routes: Route[], family: "ipv4" | "ipv6", value: bigint): Route[] {
  let best: Route[] = [];
  for (const r of routes) {
    if (!covers(r, family, value)) continue;
    if (best.length === 0 || r.length > best[0].length) best = [r];
    else if (r.length === best[0].length) best.push(r);
  }
  return best.sort((a, b) => a.metric - b.metric);
}

/**
 * The kernel's route type (rtn_type) of the packet's source or destination address, lower
 * case as nft names it: local, unicast, broadcast, multicast. The packet's own direction says
 * which address is the host's (an inbound packet is delivered to a local address); anything
 * else needs the host view.
 */
export function addressType(packet: Packet, which: "saddr" | "daddr", host: HostView | undefined): Answer<string> {
  const family = packet.family;
  const value = which === "saddr" ? packet.saddrValue : packet.daddrValue;
  if (isMulticast(family, value)) return { value: "multicast" };
  if (family === "ipv4" && value === V4_BROADCAST) return { value: "broadcast" };
  if ((which === "daddr" && packet.direction === "in") || (which === "saddr" && packet.direction === "out")) return { value: "local" };
  if (!host) return { undecidable: `the route type of ${packet[which]} needs this host's addresses and routes (firewall check has them; a saved ruleset does not)` };
  if (host.addresses.some((a) => a.family === family && a.value === value)) return { value: "local" };
  if (family === "ipv4") {
    for (const a of host.addresses) {
      if (a.family !== "ipv4" || a.prefixLength >= 31) continue;
      const hostBits = (1n << BigInt(32 - a.prefixLength)) - 1n;
      if ((a.value | hostBits) === value) return { value: "broadcast" };
      if ((a.value & ~hostBits) === value) return { undecidable: `${packet[which]} is the network address of a local subnet, whose route type depends on the kernel version` };
    }
  }
  if (longestMatch(host.routes, family, value).length > 0) return { value: "unicast" };
  return { undecidable: `no route covers ${packet[which]} (an unreachable, blackhole or prohibit route, or none: not told apart)` };
}

/**
 * How a reverse-path check looks the source up: the best route (`best`: -m rpfilter --loose,
 * `fib saddr oif`), asking for the input interface as nft's fib does (`fib saddr . iif`), or
 * strictly through it as xt_rpfilter does.
 */
export type ReverseLookup = "best" | "fib-iif" | "rpfilter-strict";

/**
 * The device of the route back to the packet's source ("" when there is none) under a lookup.
 * Asking for the input interface, IPv4 takes the best route and answers none when it leaves by
 * another device; IPv6 takes a route through it among the longest covering prefix's routes
 * (nft's fib: only the lowest-metric ones; xt_rpfilter: any metric). None falls back to a
 * shorter prefix through the input interface. The kernel test found each of these.
 */
export function reverseRouteDevice(packet: Packet, lookup: ReverseLookup, host: HostView | undefined): Answer<string> {
  if (packet.direction === "out") return { undecidable: "a reverse-path lookup for a locally generated packet is not modelled" };
  const iif = packet.iif;
  if (iif === undefined) return { undecidable: "a reverse-path lookup needs the packet's input interface (give --iif)" };
  if (isMulticast(packet.family, packet.daddrValue) || isMulticast(packet.family, packet.saddrValue)) return { undecidable: "a reverse-path lookup for a multicast packet is not modelled" };
  if (!host) return { undecidable: "a reverse-path lookup needs this host's routes (firewall check has them; a saved ruleset does not)" };
  const family = packet.family;
  const value = packet.saddrValue;
  if (host.addresses.some((a) => a.family === family && a.value === value)) return { undecidable: `${packet.saddr} is an address of this host: its reverse-path lookup is not modelled` };
  const best = longestMatch(host.routes, family, value);
  const device = best[0]?.device ?? "";
  if (lookup === "best") return { value: device };
  if (family === "ipv4") return { value: device === iif ? iif : "" };
  const usable = lookup === "fib-iif" ? best.filter((r) => r.metric === best[0].metric) : best;
  return { value: usable.some((r) => r.device === iif) ? iif : "" };
}

/** xt_rpfilter: the route back leaves by the input interface (--loose: any route back). */
export function rpfilterPasses(packet: Packet, loose: boolean, host: HostView | undefined): Answer<boolean> {
  // Looped-back packets always pass (rpfilter_is_loopback).
  if (packet.iif === "lo") return { value: true };
  const device = reverseRouteDevice(packet, loose ? "best" : "rpfilter-strict", host);
  if ("undecidable" in device) return device;
  return { value: loose ? device.value !== "" : device.value === packet.iif };
}

/** IPv6 types -m addrtype decides from the address itself or this host's routes, one at a time. */
const XT_V6_TYPES = new Set(["UNICAST", "MULTICAST", "LOCAL"]);

/**
 * xt_addrtype: IPv4 compares the address's one route type with the named ones; IPv6 tests
 * address classes (a local address is UNICAST too), so only a single named type is decided.
 */
export function xtAddrtypeMatches(packet: Packet, which: "saddr" | "daddr", types: string[], host: HostView | undefined): Answer<boolean> {
  if (packet.family === "ipv6") {
    if (types.length !== 1 || !XT_V6_TYPES.has(types[0])) return { undecidable: `ip6tables -m addrtype ${types.join(",")} is not modelled (only one of UNICAST, MULTICAST, LOCAL)` };
    const value = which === "saddr" ? packet.saddrValue : packet.daddrValue;
    if (types[0] === "MULTICAST") return { value: isMulticast("ipv6", value) };
    if (types[0] === "UNICAST") return { value: value !== 0n && !isMulticast("ipv6", value) };
  }
  const type = addressType(packet, which, host);
  if ("undecidable" in type) return type;
  return { value: types.includes(type.value.toUpperCase()) };
}
