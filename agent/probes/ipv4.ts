// The host's own IPv4 addresses (not loopback, link-local or tailscaled's), classified: public,
// behind carrier-grade NAT (100.64.0.0/10), private (RFC 1918), in a documentation range (RFC
// 5737) or otherwise reserved. The firewall probe asks its IPv4 questions with one of these and
// doctor's ipv4-nat judges them, so both read the same addresses and name them alike.
import { networkInterfaces } from "node:os";
import ipaddr from "ipaddr.js";

export type Ipv4Kind = "public" | "cgnat" | "private" | "documentation" | "reserved";

export interface Ipv4Address {
  address: string;
  interface: string;
  kind: Ipv4Kind;
}

/** RFC 5737's TEST-NET-1, -2 and -3: for examples and labs, never routed on the internet. */
const DOCUMENTATION = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((c) => ipaddr.IPv4.parseCIDR(c));

/** The kind of a host address, or null for one that says nothing about the uplink (loopback, link-local, multicast...). */
export function classifyIpv4(address: string): Ipv4Kind | null {
  const ip = ipaddr.IPv4.parse(address);
  if (DOCUMENTATION.some(([net, len]) => ip.match(net, len))) return "documentation";
  const range = ip.range();
  if (range === "unicast") return "public";
  if (range === "carrierGradeNat") return "cgnat";
  if (range === "private") return "private";
  if (range === "reserved") return "reserved";
  return null;
}

/** How findings and notes name where an address of each kind is. */
export const IPV4_KIND_WORDS: Record<Ipv4Kind, string> = {
  public: "public",
  cgnat: "behind carrier-grade NAT",
  private: "behind NAT",
  documentation: "in an RFC 5737 documentation range",
  reserved: "in a reserved range",
};

/** Kinds the internet does not route at all (not even through NAT). */
export function unrouted(kind: Ipv4Kind): boolean {
  return kind === "documentation" || kind === "reserved";
}

/** Pure: interface table -> the addresses that say how this host reaches the internet. */
export function hostIpv4(table: NodeJS.Dict<{ address: string; family: string | number; internal: boolean }[]>, tailnetIps: string[]): Ipv4Address[] {
  const out: Ipv4Address[] = [];
  for (const [name, addrs] of Object.entries(table)) {
    // tailscale0 carries the tailnet's own 100.x address, which says nothing about the uplink.
    if (!addrs || name.startsWith("tailscale")) continue;
    for (const a of addrs) {
      const v4 = a.family === "IPv4" || a.family === 4;
      if (!v4 || a.internal || tailnetIps.includes(a.address)) continue;
      const kind = classifyIpv4(a.address);
      if (kind !== null) out.push({ address: a.address, interface: name, kind });
    }
  }
  return out;
}

export function readHostIpv4(tailnetIps: string[]): Ipv4Address[] {
  return hostIpv4(networkInterfaces(), tailnetIps);
}
