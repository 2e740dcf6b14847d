// The lab's shape as data: which namespaces exist, their addresses, routes and roles. Pure, so
// `up`, `status`, the docs and the e2e test all read one description of the fleet.

export const TAILNET_V4 = "100.64.0.0/24"; // the slice of Tailscale's 100.64.0.0/10 the lab uses
export const TAILNET_V6 = "fd7a:115c:a1e0::/48";
export const ALLOCATION = "2001:db8:100::/48"; // the operator's routed IPv6 (documentation prefix)
export const ROUTER_PREFIX = "2001:db8:100:200::/56"; // net6_svc: what the router forwards for
export const TAILSCALED_PORT = 41641;
export const COMMUNITY = "edgelab";

export type Role = "scraper" | "node" | "host";
export type ScraperPath = "direct6" | "direct4" | "relay";

export interface Uplink {
  /** Global IPv6 address/len on the node's uplink, or null (IPv4-only behind CGNAT). */
  v6: string | null;
  v6Gateway: string | null;
  v4: string | null;
  v4Gateway: string | null;
}

export interface LabNode {
  name: string;
  role: Role;
  summary: string;
  /** The namespace it hangs off: "core" for the ISP core, or another node (a host behind a router). */
  parent: string;
  uplink: Uplink;
  /** Tailscale IPs (on a tun device named tailscale0), or null for a host outside the tailnet. */
  tailnet: { v4: string; v6: string } | null;
  /** What the fake tailscaled says about the path to the scraper. */
  scraperPath: ScraperPath | null;
  /** Prefixes this node routes for (a router): its agent's firewall.forwardPrefixes. */
  forwards: string[];
  /** Its own downstream link, for a router: the address it holds there. */
  downstream: { v6: string } | null;
}

export const NODES: readonly LabNode[] = [
  {
    name: "scraper",
    role: "scraper",
    summary: "Prometheus, Alertmanager, edge-agent receive",
    parent: "core",
    uplink: { v6: "2001:db8:200:1::1/64", v6Gateway: "2001:db8:200:1::fe", v4: "198.51.100.7/24", v4Gateway: "198.51.100.1" },
    tailnet: { v4: "100.64.0.1", v6: "fd7a:115c:a1e0::1" },
    scraperPath: null,
    forwards: [],
    downstream: null,
  },
  {
    // Its daemons run only in the pair lab (`scripts/lab up --pair`); the namespace is always there.
    name: "scraper2",
    role: "scraper",
    summary: "second scraper (with `up --pair`): the same three, Alertmanagers clustered",
    parent: "core",
    uplink: { v6: "2001:db8:200:2::1/64", v6Gateway: "2001:db8:200:2::fe", v4: "198.18.2.7/24", v4Gateway: "198.18.2.1" },
    tailnet: { v4: "100.64.0.2", v6: "fd7a:115c:a1e0::2" },
    scraperPath: null,
    forwards: [],
    downstream: null,
  },
  {
    name: "svc1",
    role: "node",
    summary: "plain host on a routed /64, direct IPv6 path",
    parent: "core",
    uplink: { v6: "2001:db8:100:1::10/64", v6Gateway: "2001:db8:100:1::1", v4: "192.0.2.10/24", v4Gateway: "192.0.2.1" },
    tailnet: { v4: "100.64.0.11", v6: "fd7a:115c:a1e0::11" },
    scraperPath: "direct6",
    forwards: [],
    downstream: null,
  },
  {
    name: "router",
    role: "node",
    summary: "router forwarding for 2001:db8:100:200::/56 (nftables net6_svc)",
    parent: "core",
    uplink: { v6: "2001:db8:100:2::2/64", v6Gateway: "2001:db8:100:2::1", v4: "203.0.113.2/24", v4Gateway: "203.0.113.1" },
    tailnet: { v4: "100.64.0.12", v6: "fd7a:115c:a1e0::12" },
    scraperPath: "direct6",
    forwards: [ROUTER_PREFIX],
    downstream: { v6: "2001:db8:100:201::1/64" },
  },
  {
    name: "cgnat1",
    role: "node",
    summary: "IPv4-only behind CGNAT (100.64.0.0/10), relayed path",
    parent: "core",
    uplink: { v6: null, v6Gateway: null, v4: "100.127.64.2/24", v4Gateway: "100.127.64.1" },
    tailnet: { v4: "100.64.0.13", v6: "fd7a:115c:a1e0::13" },
    scraperPath: "relay",
    forwards: [],
    downstream: null,
  },
  {
    name: "svc2",
    role: "host",
    summary: "service host behind the router on 2001:db8:100:201::/64 (no agent)",
    parent: "router",
    uplink: { v6: "2001:db8:100:201::10/64", v6Gateway: "2001:db8:100:201::1", v4: null, v4Gateway: null },
    tailnet: null,
    scraperPath: null,
    forwards: [],
    downstream: null,
  },
];

/** The nodes that run the agent (node-exporter, snmpd, fake tailscaled, `edge-agent run`). */
export function agentNodes(): LabNode[] {
  return NODES.filter((n) => n.role === "node");
}

/** The scraper every node's `scraper:` names (the path and policy verdicts are about it). */
export function scraperNode(): LabNode {
  return NODES.find((n) => n.role === "scraper")!;
}

/** The scrapers that run daemons: the first alone, or both in the pair lab. */
export function scraperNodes(pair: boolean): LabNode[] {
  const all = NODES.filter((n) => n.role === "scraper");
  return pair ? all : all.slice(0, 1);
}

export function nodeByName(name: string): LabNode {
  const node = NODES.find((n) => n.name === name);
  if (!node) throw new Error(`no lab node "${name}" (nodes: ${NODES.map((n) => n.name).join(", ")})`);
  return node;
}

/** The core's side of a /64 or /24 link: the node's gateway with the node's prefix length. */
export function gatewayWithLength(address: string, gateway: string): string {
  return `${gateway}/${address.split("/")[1]}`;
}

export function bare(address: string): string {
  return address.split("/")[0];
}

/** Network namespace name for a node of the lab called `prefix`. */
export function namespaceOf(prefix: string, node: string): string {
  return `${prefix}-${node}`;
}

/** /etc/hosts lines every namespace gets: MagicDNS names and short names for tailnet members. */
export function hostsFile(suffix = "example-tailnet.ts.net"): string {
  const lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"];
  for (const n of NODES) {
    if (!n.tailnet) continue;
    lines.push(`${n.tailnet.v4} ${n.name}.${suffix} ${n.name}`);
    lines.push(`${n.tailnet.v6} ${n.name}.${suffix} ${n.name}`);
  }
  return lines.join("\n") + "\n";
}

/** The central router's ruleset from DESIGN.md: tailscaled's UDP forwarded for net6_svc only. */
export function routerRuleset(): string {
  return [
    "table inet filter {",
    "  set net6_svc {",
    "    type ipv6_addr; flags interval;",
    `    elements = { ${ROUTER_PREFIX} }`,
    "  }",
    "  chain forward {",
    "    type filter hook forward priority 0; policy drop;",
    "    ct state established,related accept",
    "    meta l4proto ipv6-icmp accept",
    `    meta l4proto udp th sport ${TAILSCALED_PORT} ip6 saddr @net6_svc ct state new accept`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** The ISP's carrier-grade NAT: the CGNAT subscriber range leaves the core masqueraded. */
export function coreRuleset(cgnatRange: string): string {
  return [
    "table ip cgn {",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    ip saddr ${cgnatRange} ip daddr != ${cgnatRange} ip daddr != ${TAILNET_V4} masquerade`,
    "  }",
    "}",
    "",
  ].join("\n");
}
