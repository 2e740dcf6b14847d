// The firewall part of NodeState: reads the live ruleset(s) (nft's, and the legacy iptables
// tables nft cannot see), finds the UDP port tailscaled really bound and the host's addresses,
// and answers the questions of agent/firewall/questions.ts. All the I/O of the firewall lives here.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";
import type { Config } from "../config";
import { parseIptablesSave } from "../firewall/iptables-save";
import { parseNftJson } from "../firewall/nft-json";
import { answerQuestions, DEFAULT_PORT, forwardInnerAddress, PEER_IPV4, PEER_IPV6, type HostAddress } from "../firewall/questions";
import { mergeRulesets, type Ruleset } from "../firewall/ruleset";
import type { FirewallState, RulesetFailure } from "../state/firewall";
import type { Ipv6Part } from "../state/ipv6";
import { errorText } from "./deadline";
import { IPV4_KIND_WORDS, readHostIpv4, unrouted } from "./ipv4";
import { readRoutes, routeDevice } from "./routes";
import { TAILSCALED_DEFAULTS, tailscaledDefaultsPort } from "./tailscaled-defaults";

const NEEDS_CAP = "reading the ruleset needs CAP_NET_ADMIN: run as root (sudo edge-agent firewall check) or give the service AmbientCapabilities=CAP_NET_ADMIN";

export interface ToolOutput { stdout: string; missing: boolean; denied: boolean; error?: string }

/** A ruleset that could not be read, with why as a code. */
export class RulesetUnreadable extends Error {
  // Not `code`: errorText() would print a field of that name after the message.
  constructor(readonly failure: RulesetFailure, message: string) {
    super(message);
  }
}

const CAP_NET_ADMIN = 12;

/** Pure: whether a /proc/<pid>/status text's effective capability set holds capability `bit`. */
export function hasCapability(statusText: string, bit: number): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)$/im.exec(statusText)?.[1];
  return hex !== undefined && (BigInt(`0x${hex}`) & (1n << BigInt(bit))) !== 0n;
}

/** Whether this process may read the ruleset: the kernel's capability set, not the tool's words. */
function mayReadRuleset(): boolean {
  try {
    return hasCapability(readFileSync("/proc/self/status", "utf8"), CAP_NET_ADMIN);
  } catch {
    return true;
  }
}

/** Runs a ruleset tool; its failure is data: missing, denied, or an error naming the command. */
export function runTool(command: string, args: string[], timeoutMs: number): Promise<ToolOutput> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` } }, (error, stdout, stderr) => {
      if (!error) return resolve({ stdout, missing: false, denied: false });
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return resolve({ stdout: "", missing: true, denied: false });
      const text = `${stderr}`.trim();
      // execFile's own message for a timeout is only "Command failed".
      const why = (error as { killed?: boolean }).killed === true ? `did not finish within ${timeoutMs} ms (probes.timeout)` : text || errorText(error);
      const killed = (error as { killed?: boolean }).killed === true;
      resolve({ stdout: "", missing: false, denied: !killed && !mayReadRuleset(), error: `${command} ${args.join(" ")}: ${why}` });
    });
  });
}

export interface LiveRuleset {
  ruleset: Ruleset;
  backend: string;
}

/**
 * Whether this network namespace has legacy iptables tables. The kernel lists them in
 * /proc/net/ip_tables_names (ip6_tables_names); no file means x_tables never loaded here. Only
 * when the list cannot be read is the save tool asked: each spawn costs the cycle ~15 ms CPU.
 */
export async function legacyTablesPresent(namesFile: string): Promise<boolean> {
  try {
    return (await readFile(namesFile, "utf8")).trim() !== "";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

export const IP_TABLES_NAMES = "/proc/net/ip_tables_names";
export const IP6_TABLES_NAMES = "/proc/net/ip6_tables_names";

const NOT_RUN: ToolOutput = { stdout: "", missing: true, denied: false };

/** Reads nft's ruleset and the legacy iptables tables; throws with the reason when it cannot. */
export async function readLiveRuleset(timeoutMs: number): Promise<LiveRuleset> {
  const [nft, ip4, ip6] = await Promise.all([
    runTool("nft", ["-j", "list", "ruleset"], timeoutMs),
    legacyTablesPresent(IP_TABLES_NAMES).then((present) => (present ? runTool("iptables-legacy-save", [], timeoutMs) : NOT_RUN)),
    legacyTablesPresent(IP6_TABLES_NAMES).then((present) => (present ? runTool("ip6tables-legacy-save", [], timeoutMs) : NOT_RUN)),
  ]);
  if ([nft, ip4, ip6].some((o) => o.denied)) throw new RulesetUnreadable("needs-cap-net-admin", NEEDS_CAP);
  const parts: Ruleset[] = [];
  const backends: string[] = [];
  if (nft.error) throw new RulesetUnreadable("ruleset-read-failed", nft.error);
  if (!nft.missing) {
    parts.push(parseNftJson(nft.stdout));
    backends.push("nftables");
  }
  for (const [out, family] of [[ip4, "ipv4"], [ip6, "ipv6"]] as const) {
    if (out.error) throw new RulesetUnreadable("ruleset-read-failed", out.error);
    if (!out.missing && out.stdout.trim()) {
      parts.push(parseIptablesSave(out.stdout, "iptables-legacy", family));
      if (!backends.includes("iptables-legacy")) backends.push("iptables-legacy");
    }
  }
  if (nft.missing && backends.length === 0) throw new RulesetUnreadable("no-ruleset-tool", "neither nft nor iptables-legacy-save is installed: install nftables (its nft) to read the firewall");
  return { ruleset: mergeRulesets(parts), backend: backends.join("+") || "none" };
}

/** Pure: the UDP ports bound by sockets whose inodes are in `inodes`, from /proc/net/udp{,6}. */
export function udpPortsOf(procNetUdp: string, inodes: Set<string>): number[] {
  const ports: number[] = [];
  for (const line of procNetUdp.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    if (inodes.has(f[9])) ports.push(parseInt(f[1].split(":")[1], 16));
  }
  return ports;
}

/** The UDP port a running tailscaled holds, found through /proc (no tailscale CLI needed). */
export async function tailscaledSocketPort(proc = "/proc"): Promise<number | null> {
  const inodes = new Set<string>();
  for (const pid of await readdir(proc).catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const comm = await readFile(`${proc}/${pid}/comm`, "utf8").catch(() => "");
    if (comm.trim() !== "tailscaled") continue;
    for (const fd of await readdir(`${proc}/${pid}/fd`).catch(() => [] as string[])) {
      const m = /^socket:\[(\d+)\]$/.exec(await readlink(`${proc}/${pid}/fd/${fd}`).catch(() => ""));
      if (m) inodes.add(m[1]);
    }
  }
  if (inodes.size === 0) return null;
  for (const file of ["udp6", "udp"]) {
    // tailscaled also holds sockets on port 0-ish helpers; its magicsock port is the non-zero one.
    const ports = udpPortsOf(await readFile(`${proc}/net/${file}`, "utf8").catch(() => ""), inodes).filter((p) => p !== 0);
    if (ports.length) return ports[0];
  }
  return null;
}

/**
 * The address the IPv4 questions are asked with: the host's first IPv4 that is not behind
 * carrier-grade NAT (tailscaled's own 100.x among them), as doctor's ipv4-nat lists them. One in
 * a range the internet does not route is still asked about, and a note says what it is.
 */
function firstIpv4(notes: string[]): HostAddress | null {
  const first = readHostIpv4([]).find((a) => a.kind !== "cgnat");
  if (!first) return null;
  if (unrouted(first.kind)) notes.push(`the IPv4 questions are asked with ${first.address} on ${first.interface}, ${IPV4_KIND_WORDS[first.kind]}, which the internet does not route`);
  return { address: first.address, interface: first.interface };
}

function primaryIpv6(ipv6: Ipv6Part | null): HostAddress | null {
  if (!ipv6 || ipv6.state !== "ok" || !ipv6.primary) return null;
  const prefix = ipv6.prefixes.find((p) => p.prefix === ipv6.primary);
  const addr = prefix?.addresses.find((a) => !a.flags.includes("temporary")) ?? prefix?.addresses[0];
  return prefix && addr ? { address: addr.address, interface: prefix.interface } : null;
}

type Questions = Parameters<typeof answerQuestions>[1];
type Checks = ReturnType<typeof answerQuestions>;
/** The last answers per ruleset: a cached ruleset asked the same questions answers the same. */
const answered = new WeakMap<Ruleset, { key: string; checks: Checks }>();

function answerOnce(ruleset: Ruleset, input: Questions): Checks {
  const key = JSON.stringify(input);
  const last = answered.get(ruleset);
  if (last?.key === key) return last.checks;
  const checks = answerQuestions(ruleset, input);
  answered.set(ruleset, { key, checks });
  return checks;
}

/** Where a forwarded datagram from each prefix enters and leaves, by the routing table. */
async function forwardInterfaces(prefixes: string[], notes: string[]): Promise<Record<string, { iif: string | null; oif: string | null }>> {
  if (prefixes.length === 0) return {};
  const routes = await readRoutes();
  const out: Record<string, { iif: string | null; oif: string | null }> = {};
  for (const prefix of prefixes) {
    const inner = forwardInnerAddress(prefix);
    const iif = routeDevice(routes, inner);
    const oif = routeDevice(routes, inner.includes(":") ? PEER_IPV6 : PEER_IPV4);
    if (!iif) notes.push(`no route to ${prefix}: its forward check is asked without an input interface`);
    if (!oif) notes.push(`no route to the internet for ${prefix}'s family: its forward check is asked without an output interface`);
    out[prefix] = { iif, oif };
  }
  return out;
}

export interface FirewallProbeOptions {
  config: Config;
  /** NodeState's tailnet.port (Self.Addrs), when the tailnet probe found one. */
  tailnetPort: number | null;
  ipv6: Ipv6Part | null;
  /** Where tailscaled's packages set PORT; tests give their own file. */
  tailscaledDefaults?: string;
  /** Tests give a saved ruleset instead of the live one. */
  readRuleset?: (timeoutMs: number) => Promise<LiveRuleset>;
}

export async function probeFirewall(options: FirewallProbeOptions): Promise<FirewallState> {
  const { config } = options;
  const notes: string[] = [];
  let port: number;
  let portSource: FirewallState["portSource"];
  if (config.firewall.port !== "auto") {
    port = config.firewall.port;
    portSource = "config";
  } else if (options.tailnetPort) {
    port = options.tailnetPort;
    portSource = "localapi";
  } else {
    const found = await tailscaledSocketPort();
    const configured = found ? null : await tailscaledDefaultsPort(options.tailscaledDefaults);
    if (found) {
      port = found;
      portSource = "socket";
    } else if (configured) {
      port = configured;
      portSource = "defaults-file";
      notes.push(`tailscaled's bound port is unknown (no Self.Addrs from the LocalAPI, no tailscaled UDP socket found): checked ${configured}, the PORT in ${options.tailscaledDefaults ?? TAILSCALED_DEFAULTS}`);
    } else {
      port = DEFAULT_PORT;
      portSource = "default";
      notes.push(`tailscaled's bound port is unknown (no Self.Addrs from the LocalAPI, no tailscaled UDP socket found): checked ${DEFAULT_PORT}, Tailscale's default (and no PORT in ${options.tailscaledDefaults ?? TAILSCALED_DEFAULTS})`);
    }
  }
  const forwardPrefixes = config.firewall.forwardPrefixes;
  const input = { port, ipv6: primaryIpv6(options.ipv6), ipv4: firstIpv4(notes), forwardPrefixes, forwardInterfaces: await forwardInterfaces(forwardPrefixes, notes) };
  let live: LiveRuleset;
  try {
    live = await (options.readRuleset ?? readLiveRuleset)(config.probes.timeoutMs);
  } catch (error) {
    const reason = errorText(error);
    const code = error instanceof RulesetUnreadable ? error.failure : "ruleset-read-failed";
    const checks = answerQuestions(mergeRulesets([]), input).map((c) => ({ id: c.id, verdict: "unknown" as const, decidedBy: reason, reason }));
    return { state: "ok", port, portSource, backend: "none", checks, notes: [...notes, reason], unreadable: { code, error: reason } };
  }
  const checks = answerOnce(live.ruleset, input);
  return { state: "ok", port, portSource, backend: live.backend, checks, notes };
}
