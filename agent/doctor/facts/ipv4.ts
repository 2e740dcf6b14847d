// The host's own IPv4 addresses (not loopback, not tailscaled's), classified: public, behind
// carrier-grade NAT (100.64.0.0/10) or private (RFC 1918). Only doctor asks this.
import { networkInterfaces } from "node:os";
import ipaddr from "ipaddr.js";

export type Ipv4Kind = "public" | "cgnat" | "private" | "other";

export interface Ipv4Address {
  address: string;
  interface: string;
  kind: Ipv4Kind;
}

export function classifyIpv4(address: string): Ipv4Kind {
  const range = ipaddr.IPv4.parse(address).range();
  if (range === "unicast") return "public";
  if (range === "carrierGradeNat") return "cgnat";
  if (range === "private") return "private";
  return "other";
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
      if (kind !== "other") out.push({ address: a.address, interface: name, kind });
    }
  }
  return out;
}

export function readHostIpv4(tailnetIps: string[]): Ipv4Address[] {
  return hostIpv4(networkInterfaces(), tailnetIps);
}
