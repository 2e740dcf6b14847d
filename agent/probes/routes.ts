// Which interface the kernel's routing table sends an address through, read from
// /proc/net/ipv6_route and /proc/net/route (no `ip route` process). The firewall's forward
// checks need it: a router's forward chain usually matches iifname/oifname, and a forwarded
// datagram from a service prefix enters on the interface that routes to that prefix and leaves
// on the one that routes to the internet. Only the main routing view the kernel lists there is
// read: policy routing (ip rule) is not followed.
import { readFile } from "node:fs/promises";
import ipaddr from "ipaddr.js";

export interface Route {
  family: "ipv6" | "ipv4";
  /** The destination as bytes, and how many leading bits of it count. */
  destination: number[];
  length: number;
  device: string;
  metric: number;
}

/** RTF_REJECT: unreachable, prohibit and blackhole routes send nothing anywhere. */
const RTF_REJECT = 0x0200;
const RTF_UP = 0x0001;

function hexBytes(hex: string): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < hex.length; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  return out;
}

/** Pure: /proc/net/ipv6_route (dest, dest_len, src, src_len, next hop, metric, refcnt, use, flags, device). */
export function parseIpv6Routes(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^[0-9a-f]{32}$/i.test(f[0])) continue;
    const flags = parseInt(f[8], 16);
    if (!(flags & RTF_UP) || flags & RTF_REJECT) continue;
    routes.push({ family: "ipv6", destination: hexBytes(f[0]), length: parseInt(f[1], 16), device: f[9], metric: parseInt(f[5], 16) });
  }
  return routes;
}

/** Pure: /proc/net/route (Iface, Destination, Gateway, Flags, RefCnt, Use, Metric, Mask...), addresses little-endian hex. */
export function parseIpv4Routes(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^[0-9a-f]{8}$/i.test(f[1])) continue;
    const flags = parseInt(f[3], 16);
    if (!(flags & RTF_UP) || flags & RTF_REJECT) continue;
    const destination = hexBytes(f[1]).reverse();
    const mask = hexBytes(f[7]).reverse();
    const length = mask.reduce((bits, byte) => bits + byte.toString(2).replace(/0/g, "").length, 0);
    routes.push({ family: "ipv4", destination, length, device: f[0], metric: parseInt(f[6], 10) });
  }
  return routes;
}

function covers(route: Route, bytes: number[]): boolean {
  for (let bit = 0; bit < route.length; bit++) {
    const mask = 0x80 >> bit % 8;
    if ((route.destination[bit >> 3] & mask) !== (bytes[bit >> 3] & mask)) return false;
  }
  return true;
}

/** Pure: the device of the longest matching route (lowest metric among equals), or null. */
export function routeDevice(routes: Route[], address: string): string | null {
  const parsed = ipaddr.parse(address);
  const family = parsed.kind() === "ipv6" ? "ipv6" : "ipv4";
  const bytes = parsed.toByteArray();
  let best: Route | null = null;
  for (const route of routes) {
    if (route.family !== family || !covers(route, bytes)) continue;
    if (!best || route.length > best.length || (route.length === best.length && route.metric < best.metric)) best = route;
  }
  return best?.device ?? null;
}

/** This network namespace's routes, both families; a table that cannot be read has none. */
export async function readRoutes(proc = "/proc"): Promise<Route[]> {
  const [v6, v4] = await Promise.all([
    readFile(`${proc}/net/ipv6_route`, "utf8").catch(() => ""),
    readFile(`${proc}/net/route`, "utf8").catch(() => ""),
  ]);
  return [...parseIpv6Routes(v6), ...parseIpv4Routes(v4)];
}
