// The host's global IPv6 addresses, grouped into /64 prefixes per interface, read from
// /proc/net/if_inet6 (no process spawned; the kernel's flags come with each address).
import { readFile } from "node:fs/promises";
import ipaddr from "ipaddr.js";
import type { AddressFlag, Ipv6Address, Ipv6Part, Ipv6Prefix, Ipv6State } from "../state/ipv6";
import { errorText } from "./deadline";

export const IF_INET6 = "/proc/net/if_inet6";

// include/uapi/linux/if_addr.h; if_inet6 prints the low 8 bits of ifa_flags.
const FLAG_BITS: [number, AddressFlag][] = [
  [0x01, "temporary"],
  [0x02, "nodad"],
  [0x04, "optimistic"],
  [0x08, "dadfailed"],
  [0x10, "homeaddress"],
  [0x20, "deprecated"],
  [0x40, "tentative"],
  [0x80, "permanent"],
];

/** Tailscale's own IPv6 range: a tailnet address, not the host's routed /64. */
const TAILSCALE_ULA = ipaddr.parseCIDR("fd7a:115c:a1e0::/48");

export interface KernelAddress {
  address: string;
  prefixLength: number;
  interface: string;
  flags: AddressFlag[];
}

/** Parses /proc/net/if_inet6 lines: address ifindex prefixlen scope flags name. */
export function parseIfInet6(text: string): KernelAddress[] {
  const out: KernelAddress[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6 || !/^[0-9a-f]{32}$/i.test(fields[0])) continue;
    const hex = fields[0];
    const groups = hex.match(/.{4}/g)!.join(":");
    const flagsValue = parseInt(fields[4], 16);
    out.push({
      address: ipaddr.IPv6.parse(groups).toString(),
      prefixLength: parseInt(fields[2], 16),
      interface: fields[5],
      flags: FLAG_BITS.filter(([bit]) => (flagsValue & bit) !== 0).map(([, name]) => name),
    });
  }
  return out;
}

function inAny(address: ipaddr.IPv6, prefixes: [ipaddr.IPv6 | ipaddr.IPv4, number][]): boolean {
  return prefixes.some(([net, len]) => net.kind() === "ipv6" && address.match(net as ipaddr.IPv6, len));
}

/**
 * Whether an address is a global unicast one the scraper could route to. An address inside a
 * configured allocation counts even where ipaddr.js calls its range reserved (2001:db8::/32).
 */
export function isGlobal(address: string, allocations: string[]): boolean {
  const parsed = ipaddr.IPv6.parse(address);
  if (parsed.match(TAILSCALE_ULA[0] as ipaddr.IPv6, TAILSCALE_ULA[1])) return false;
  const allocs = allocations.map((p) => ipaddr.parseCIDR(p));
  if (inAny(parsed, allocs)) return true;
  return parsed.range() === "unicast";
}

function sixtyFour(address: string): string {
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address}/64`).toString()}/64`;
}

/** An address can source new traffic now: not deprecated, not waiting for or failed in DAD. */
function usableAddress(a: Ipv6Address): boolean {
  return !a.flags.some((f) => f === "deprecated" || f === "tentative" || f === "dadfailed");
}

function usable(prefix: Ipv6Prefix): boolean {
  return prefix.addresses.some(usableAddress);
}

/**
 * Picks the prefix the host is best reached on among the usable ones: inside an allocation
 * first, then one with a stable (non-temporary) address, then the order the kernel listed them
 * in. None when no prefix has an address that can source traffic (all deprecated or tentative).
 */
export function choosePrimary(prefixes: Ipv6Prefix[]): string | null {
  const ranked = prefixes
    .map((p, index) => ({ p, index }))
    .filter(({ p }) => usable(p))
    .map(({ p, index }) => ({
      p,
      index,
      score:
        (p.inAllocation !== false ? 2 : 0) +
        (p.addresses.some((a) => usableAddress(a) && !a.flags.includes("temporary")) ? 1 : 0),
    }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
  return ranked.length > 0 ? ranked[0].p.prefix : null;
}

/** Pure: kernel addresses + allocations -> the `ipv6` part of NodeState. */
export function summariseAddresses(addresses: KernelAddress[], allocations: string[]): Ipv6State {
  const allocs = allocations.map((p) => ipaddr.parseCIDR(p));
  const byKey = new Map<string, Ipv6Prefix>();
  for (const a of addresses) {
    if (!isGlobal(a.address, allocations)) continue;
    const prefix = sixtyFour(a.address);
    const key = `${a.interface} ${prefix}`;
    let entry = byKey.get(key);
    if (!entry) {
      const network = ipaddr.IPv6.parse(prefix.split("/")[0]);
      entry = { prefix, interface: a.interface, addresses: [], inAllocation: allocs.length === 0 ? null : inAny(network, allocs) };
      byKey.set(key, entry);
    }
    const addr: Ipv6Address = { address: a.address, prefixLength: a.prefixLength, flags: a.flags };
    entry.addresses.push(addr);
  }
  const prefixes = [...byKey.values()];
  return { state: "ok", prefixes, primary: choosePrimary(prefixes) };
}

export async function probeAddresses(allocations: string[], path = IF_INET6): Promise<Ipv6Part> {
  try {
    const text = await readFile(path, "utf8");
    return summariseAddresses(parseIfInet6(text), allocations);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? { state: "unavailable", code: "ipv6-disabled", error: `${path} does not exist: IPv6 is disabled in this kernel or namespace` }
      : { state: "unavailable", code: "unreadable", error: `cannot read ${path}: ${errorText(error)}` };
  }
}
