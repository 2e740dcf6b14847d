// Runs every probe concurrently, each under its own deadline, and assembles one NodeState.
// Services are probed on the Tailscale IPs too, so they wait for tailscaled's status only (not
// for the disco ping); the ruleset read waits for nothing, its judging for the port. A local
// snapshot re-runs only the probes of what this host's kernel says (addresses, firewall), and
// `firewall check` runs the firewall probe with just the parts it needs.
import { redactUrl, type Config } from "../config";
import { runningTailnet, type NodeExporterState, type NodeState, type SnmpdState, type TailnetState, type TailnetUnavailable, type Unavailable } from "../state/node-state";
import type { TailnetPolicy } from "../state/tailnet-policy";
import type { Ipv6Part } from "../state/ipv6";
import type { FirewallPart } from "../state/firewall";
import type { ProbeFailure } from "../state/unavailable";
import type { ServiceName, ServicesState } from "../state/services";
import { AGENT_VERSION } from "../version";
import { probeAddresses } from "./addresses";
import { DeadlineExceeded, errorText, withDeadline } from "./deadline";
import { probeFirewall, readLiveRuleset, type FirewallProbeOptions } from "./firewall";
import { probeHost } from "./host";
import { probeNodeExporter } from "./node-exporter";
import { probeSnmpd } from "./snmpd";
import { probeTailnet } from "./tailscale";
import { probeTailnetPolicy } from "./tailnet-policy";
import { isoTime } from "../iso-time";

export interface CollectOptions {
  /** Disco-ping the scraper before judging the path. */
  ping?: boolean;
  /** Where to read the kernel's IPv6 addresses (tests point it at a namespace's process). */
  ifInet6Path?: string;
  /** Where the firewall probe gets the live ruleset (the daemon passes its cache). */
  readRuleset?: FirewallProbeOptions["readRuleset"];
}

/** What a probe that threw (or missed its deadline) failed with: its own failures are data. */
function thrown(error: unknown): ProbeFailure {
  return error instanceof DeadlineExceeded ? "timeout" : "probe-error";
}

/** A probe's failure as NodeState carries it. */
function unavailable(error: unknown): Unavailable<ProbeFailure> {
  return { state: "unavailable", code: thrown(error), error: errorText(error) };
}

export async function collectNodeState(config: Config, options: CollectOptions = {}): Promise<NodeState> {
  const timeout = config.probes.timeoutMs;

  const host = withDeadline(probeHost(), timeout, "the host probe").catch(unavailable);
  const ipv6 = withDeadline(probeAddresses(config.ipv6.allocations, options.ifInet6Path), timeout, "/proc/net/if_inet6").catch(unavailable);
  // The ping may take up to one timeout on its own; the status read another.
  let ipsRead: (ips: string[]) => void = () => undefined;
  const ipsFromStatus = new Promise<string[]>((resolve) => (ipsRead = resolve));
  const tailnet: Promise<TailnetState | TailnetUnavailable> = withDeadline(
    probeTailnet({ socket: config.tailscale.socket, scraper: config.scraper, expectedTags: config.tailscale.expectedTags, timeoutMs: timeout, ping: options.ping ?? true, onIps: ipsRead }),
    timeout * 2 + 500,
    "tailscaled",
  ).catch((error) => ({ ...unavailable(error), missingTags: [...config.tailscale.expectedTags] }));

  // The services are asked on the Tailscale IPs as soon as the status names them, while the disco
  // ping to the scraper is still out; without a status, once the tailnet probe has given up.
  const tailnetIps = Promise.race([ipsFromStatus, tailnet.then((t) => runningTailnet(t)?.ips ?? [])]);
  const nodeExporter = tailnetIps.then((ips) => askService(config, "nodeExporter", ips));
  const snmpd = tailnetIps.then((ips) => askService(config, "snmpd", ips));

  // The policy's verdicts are about the scraper's addresses and this node's: the tailnet probe's.
  const policy = tailnet.then((t) => judgePolicy(config, t));

  // The firewall questions need the port tailscaled bound and the host's addresses; reading the
  // ruleset (nft, a process of its own) needs neither, so it starts now, beside the tailnet probe,
  // instead of after it. A failed read is the firewall part's to report: handled here meanwhile.
  const ruleset = (options.readRuleset ?? readLiveRuleset)(timeout);
  ruleset.catch(() => undefined);
  const firewall = Promise.all([ipv6, tailnet]).then(([v6, t]) => judgeFirewall(config, t, v6, () => ruleset));

  return {
    agent: { version: AGENT_VERSION },
    collectedAt: isoTime(),
    host: await host,
    ipv6: await ipv6,
    tailnet: { ...(await tailnet), policy: await policy },
    services: { nodeExporter: await nodeExporter, snmpd: await snmpd },
    firewall: await firewall,
  };
}

/** One service's probe under its deadline, locally and on the Tailscale IPs: stateless, asked once. */
export function askService<S extends ServiceName>(config: Config, service: S, tailnetIps: string[]): Promise<ServicesState[S]>;
export function askService(config: Config, service: ServiceName, tailnetIps: string[]): Promise<NodeExporterState | SnmpdState> {
  const timeout = config.probes.timeoutMs;
  if (service === "nodeExporter")
    return withDeadline(probeNodeExporter(config.probes.nodeExporter, tailnetIps, timeout), timeout * 3, "node-exporter").catch((error) => ({
      url: redactUrl(config.probes.nodeExporter.url), up: false, version: null, tailnetReachable: null, code: thrown(error), error: errorText(error),
    }));
  return withDeadline(probeSnmpd(config.probes.snmpd, tailnetIps, timeout), timeout * 3, "snmpd").catch((error) => ({
    target: `${config.probes.snmpd.host}:${config.probes.snmpd.port}`, up: false, sysDescr: null, sysUpTimeSeconds: null, tailnetReachable: null, code: thrown(error), error: errorText(error),
  }));
}

/**
 * The tailnet.policy probe under its deadline: one read of the packet filter per full cycle (a
 * local cycle carries it over with the tailnet part). Its reads are sequential (the IPN bus, then
 * the prefs or the debug endpoint when the bus lacks them), each with one timeout.
 */
function judgePolicy(config: Config, tailnet: TailnetState | TailnetUnavailable): Promise<TailnetPolicy> {
  const t = runningTailnet(tailnet);
  if (!t) return Promise.resolve({ state: "unavailable", code: "tailnet-unavailable", error: `tailscaled's status could not be read: ${(tailnet as TailnetUnavailable).error}` });
  // Logged out or stopped: no netmap, no scraper peer; the tailnet part says what to run.
  if (t.state !== "Running") return Promise.resolve({ state: "unavailable", code: "tailnet-unavailable", error: `tailscaled is ${t.state}, not Running` });
  const timeout = config.probes.timeoutMs;
  return withDeadline(probeTailnetPolicy({ socket: config.tailscale.socket, scraperIps: t.scraper.ips, selfIps: t.ips, timeoutMs: timeout }), timeout * 2 + 500, "the tailnet policy probe").catch(unavailable);
}

/**
 * The firewall probe under its deadline: the port from the tailnet part, the host's addresses.
 * The ruleset read inside has one timeout of its own; the probe gets two, so a slow read ends as
 * the read's own error (verdicts unknown, naming it) and nft's answer still has room to be parsed
 * and judged, which on a loaded host without the JIT can take a timeout's worth again.
 */
function judgeFirewall(config: Config, tailnet: TailnetState | TailnetUnavailable | null, ipv6: Ipv6Part, readRuleset: CollectOptions["readRuleset"]): Promise<FirewallPart> {
  const tailnetPort = tailnet ? runningTailnet(tailnet)?.port ?? null : null;
  return withDeadline(probeFirewall({ config, tailnetPort, ipv6, readRuleset }), config.probes.timeoutMs * 2, "the firewall probe").catch(unavailable);
}

/** `firewall check` on its own: the address and tailnet probes it needs, then the firewall's. */
export async function collectFirewallState(config: Config): Promise<FirewallPart> {
  const timeout = config.probes.timeoutMs;
  const [ipv6, tailnet] = await Promise.all([
    withDeadline(probeAddresses(config.ipv6.allocations), timeout, "/proc/net/if_inet6").catch(unavailable),
    config.firewall.port === "auto"
      ? withDeadline(probeTailnet({ socket: config.tailscale.socket, scraper: config.scraper, expectedTags: [], timeoutMs: timeout, ping: false }), timeout + 500, "tailscaled").catch(() => null)
      : Promise.resolve(null),
  ]);
  return judgeFirewall(config, tailnet, ipv6, undefined);
}

/**
 * `prev` with the IPv6 addresses and the firewall judged anew, the tailnet and services carried
 * over: an address or ruleset change is reported without waiting for a disco ping or a slow
 * service. An address table that cannot be read throws (the cycle fails and is logged).
 */
export async function collectLocalState(config: Config, prev: NodeState, options: CollectOptions = {}): Promise<NodeState> {
  const ipv6 = await withDeadline(probeAddresses(config.ipv6.allocations, options.ifInet6Path), config.probes.timeoutMs, "/proc/net/if_inet6");
  const firewall = await judgeFirewall(config, prev.tailnet, ipv6, options.readRuleset);
  return { ...prev, collectedAt: isoTime(), ipv6, firewall };
}
