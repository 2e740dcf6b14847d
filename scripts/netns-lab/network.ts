// Builds and removes the lab's network: one namespace per node plus an ISP "core" that routes
// the documentation prefixes between them, veth links, Tailscale IPs on a tun named tailscale0,
// the tailnet routed across the core, the router's nftables forward chain and the core's CGNAT.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NODES, ROUTER_PREFIX, TAILNET_V4, TAILNET_V6, bare, coreRuleset, gatewayWithLength, hostsFile, namespaceOf, routerRuleset, type LabNode } from "./topology";

/** Link-local addresses on every uplink, so IPv6 tailnet routes work on IPv4-only links too. */
const CORE_LL = "fe80::1";
const NODE_LL = "fe80::2";

export function run(command: string, args: string[], input?: string): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")}: ${e.stderr?.trim() || e.message}`);
  }
}

export function inNs(ns: string, command: string, args: string[], input?: string): string {
  return run("ip", ["netns", "exec", ns, command, ...args], input);
}

function ipIn(ns: string, args: string[]): void {
  run("ip", ["-n", ns, ...args]);
}

function sysctl(ns: string, key: string, value: string): void {
  inNs(ns, "sysctl", ["-qw", `${key}=${value}`]);
}

export function listNamespaces(): string[] {
  return run("ip", ["netns", "list"])
    .split("\n")
    .map((line) => line.split(" ")[0])
    .filter(Boolean);
}

function createNamespace(ns: string): void {
  run("ip", ["netns", "add", ns]);
  ipIn(ns, ["link", "set", "lo", "up"]);
  // accept_dad off: addresses are usable at once (no 1 s of tentative state on every link).
  sysctl(ns, "net.ipv6.conf.all.accept_dad", "0");
  sysctl(ns, "net.ipv6.conf.default.accept_dad", "0");
  sysctl(ns, "net.ipv4.conf.all.rp_filter", "0");
  sysctl(ns, "net.ipv4.conf.default.rp_filter", "0");
}

/** A veth pair from `aNs` (named aName) to `bNs` (named bName), both up. */
function link(aNs: string, aName: string, bNs: string, bName: string): void {
  run("ip", ["link", "add", "name", aName, "netns", aNs, "type", "veth", "peer", "name", bName, "netns", bNs]);
  ipIn(aNs, ["link", "set", aName, "up"]);
  ipIn(bNs, ["link", "set", bName, "up"]);
}

function addAddress(ns: string, dev: string, address: string): void {
  const v6 = address.includes(":");
  ipIn(ns, [v6 ? "-6" : "-4", "addr", "add", address, "dev", dev, ...(v6 ? ["nodad"] : [])]);
}

function addRoute(ns: string, args: string[]): void {
  const v6 = args[0].includes(":") || (args[0] === "default" && args[2].includes(":"));
  ipIn(ns, [v6 ? "-6" : "-4", "route", "add", ...args]);
}

export interface NetworkNames {
  prefix: string;
  core: string;
  namespaces: Record<string, string>;
}

export function networkNames(prefix: string): NetworkNames {
  return {
    prefix,
    core: namespaceOf(prefix, "core"),
    namespaces: Object.fromEntries(NODES.map((n) => [n.name, namespaceOf(prefix, n.name)])),
  };
}

/** Interface names: "eth0" is every node's uplink; the parent's side is "to-<node>". */
function uplinkPeerName(node: LabNode): string {
  return `to-${node.name}`.slice(0, 15);
}

export function buildNetwork(names: NetworkNames): void {
  createNamespace(names.core);
  sysctl(names.core, "net.ipv4.ip_forward", "1");
  sysctl(names.core, "net.ipv6.conf.all.forwarding", "1");
  for (const node of NODES) {
    const ns = names.namespaces[node.name];
    createNamespace(ns);
    writeEtcNetns(ns);
    if (node.downstream || node.forwards.length) {
      sysctl(ns, "net.ipv6.conf.all.forwarding", "1");
    }
  }
  for (const node of NODES) {
    const ns = names.namespaces[node.name];
    const parentNs = node.parent === "core" ? names.core : names.namespaces[node.parent];
    const peer = uplinkPeerName(node);
    link(parentNs, peer, ns, "eth0");
    const { v6, v6Gateway, v4, v4Gateway } = node.uplink;
    if (v6 && v6Gateway) {
      addAddress(ns, "eth0", v6);
      if (node.parent === "core") addAddress(parentNs, peer, gatewayWithLength(v6, v6Gateway));
      addRoute(ns, ["default", "via", v6Gateway, "dev", "eth0"]);
    }
    if (v4 && v4Gateway) {
      addAddress(ns, "eth0", v4);
      addAddress(parentNs, peer, gatewayWithLength(v4, v4Gateway));
      addRoute(ns, ["default", "via", v4Gateway, "dev", "eth0"]);
    }
    if (node.tailnet) {
      // Static link-locals so the tailnet's IPv6 is routed on IPv4-only uplinks too.
      addAddress(parentNs, peer, `${CORE_LL}/64`);
      addAddress(ns, "eth0", `${NODE_LL}/64`);
      // tailscale0 is a tun device, as tailscaled's is; the Tailscale IPs live on it.
      ipIn(ns, ["tuntap", "add", "dev", "tailscale0", "mode", "tun"]);
      ipIn(ns, ["link", "set", "tailscale0", "up"]);
      addAddress(ns, "tailscale0", `${node.tailnet.v4}/32`);
      addAddress(ns, "tailscale0", `${node.tailnet.v6}/128`);
      // Traffic to other tailnet members leaves from the Tailscale IP, as it does through tailscale0.
      const gw4 = node.uplink.v4Gateway!;
      addRoute(ns, [TAILNET_V4, "via", gw4, "dev", "eth0", "src", node.tailnet.v4]);
      addRoute(ns, [TAILNET_V6, "via", CORE_LL, "dev", "eth0", "src", node.tailnet.v6]);
      addRoute(names.core, [`${node.tailnet.v4}/32`, "via", bare(v4!), "dev", peer]);
      addRoute(names.core, [`${node.tailnet.v6}/128`, "via", NODE_LL, "dev", peer]);
    }
    if (node.downstream) {
      // A router: its subnet hosts hang off it; the core routes the router's /56 to it.
      addRoute(names.core, [ROUTER_PREFIX, "via", bare(v6!), "dev", peer]);
      inNs(ns, "nft", ["-f", "-"], routerRuleset());
    }
  }
  for (const node of NODES) {
    if (node.parent === "core" || !node.uplink.v6) continue;
    addAddress(names.namespaces[node.parent], uplinkPeerName(node), gatewayWithLength(node.uplink.v6, node.uplink.v6Gateway!));
  }
  const cgnat = NODES.find((n) => n.uplink.v4?.startsWith("100."));
  if (cgnat) {
    const [addr, len] = cgnat.uplink.v4!.split("/");
    inNs(names.core, "nft", ["-f", "-"], coreRuleset(`${addr.split(".").slice(0, 3).join(".")}.0/${len}`));
  }
}

/** `ip netns exec` bind-mounts /etc/netns/NS/* over /etc: the lab's MagicDNS names. */
function writeEtcNetns(ns: string): void {
  const dir = join("/etc/netns", ns);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "hosts"), hostsFile());
}

export function removeNamespace(ns: string): void {
  try {
    const pids = run("ip", ["netns", "pids", ns]).split("\n").filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  } catch {
    /* namespace gone */
  }
  try {
    run("ip", ["netns", "del", ns]);
  } catch {
    /* already removed */
  }
  const etc = join("/etc/netns", ns);
  if (existsSync(etc)) rmSync(etc, { recursive: true, force: true });
}

/** Addresses per interface inside a namespace, as `ip -br addr` prints them. */
export function addressesIn(ns: string): string[] {
  try {
    return inNs(ns, "ip", ["-br", "addr"])
      .split("\n")
      .filter((l) => l && !l.startsWith("lo "))
      .map((l) => l.replace(/\s+/g, " ").trim());
  } catch (error) {
    return [`(${(error as Error).message})`];
  }
}
