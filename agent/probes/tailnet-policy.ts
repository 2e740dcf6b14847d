// The tailnet policy as this node's tailscaled enforces it: may the scraper open tcp/9100 and
// udp/161 here? The packet filter comes from the IPN bus's initial netmap (read access is enough,
// so the unprivileged daemon can read it), else from debug-packet-filter-rules (root or the
// operator only); shields-up from the prefs sent alongside.
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { nodeFlowVerdicts, type FilterSource, type NodeFlowVerdict } from "../policy/node-flows";
import { filterShapeProblem, type FilterRule } from "../policy/packet-filter";
import { errorText } from "./deadline";
import { findSocket, localApi, LocalApiError } from "./localapi";
import { localApiFirstObject } from "./localapi-stream";

export type { NodeFlowId, NodeFlowVerdict } from "../policy/node-flows";

/** The filter was read (or why it cannot be is known): one verdict per flow the scraper opens. */
export interface TailnetPolicyState {
  state: "ok";
  /** Where the filter came from; null when it could not be read (every verdict is unknown). */
  source: "ipn-bus" | "debug-packet-filter-rules" | null;
  flows: NodeFlowVerdict[];
}

/**
 * Why no verdict could be made at all. no-socket: no LocalAPI socket; no-scraper: no scraper
 * address to judge (it is not a peer; control planes hide a peer the policy lets talk to this
 * node in neither direction, so a policy dropping all three flows can end here too, as does a
 * wrong `scraper` setting); localapi: tailscaled failed or did not answer in time;
 * malformed: an answer of the wrong shape; no-filter-source: this tailscaled offers the filter
 * on neither endpoint.
 */
export interface TailnetPolicyUnavailable {
  state: "unavailable";
  code: "no-socket" | "no-scraper" | "localapi" | "malformed" | "no-filter-source";
  error: string;
}

export type TailnetPolicy = TailnetPolicyState | TailnetPolicyUnavailable;

export interface TailnetPolicyProbeOptions {
  socket: string | null;
  /** The scraper's Tailscale addresses (from the tailnet probe's scraper peer). */
  scraperIps: string[];
  /** This node's Tailscale addresses; the netmap's SelfNode.Addresses when empty. */
  selfIps: string[];
  timeoutMs: number;
}

/** NotifyInitialPrefs (4) | NotifyInitialNetMap (8) | NotifyNoPrivateKeys (16): older tailscaleds refuse read-only watchers without 16. */
export const WATCH_PATH = "/localapi/v0/watch-ipn-bus?mask=28";
export const DEBUG_RULES_PATH = "/localapi/v0/debug-packet-filter-rules";

/** The parts of ipn.Notify and netmap.NetworkMap read here (Go field names are the keys). */
interface Notify {
  Prefs?: { ShieldsUp?: boolean } | null;
  NetMap?: {
    PacketFilterRules?: FilterRule[] | null;
    SelfNode?: { Addresses?: string[] | null } | null;
    Peers?: { Addresses?: string[] | null; IsJailed?: boolean }[] | null;
  } | null;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? "this user");
  }
}

const strip = (ip: string) => ip.replace(/\/\d+$/, "");

export async function probeTailnetPolicy(options: TailnetPolicyProbeOptions): Promise<TailnetPolicy> {
  const socket = findSocket(options.socket);
  if (!socket || !existsSync(socket)) return { state: "unavailable", code: "no-socket", error: `no tailscaled LocalAPI socket at ${socket ?? "/run/tailscale/tailscaled.sock"}` };
  if (!options.scraperIps.length) return { state: "unavailable", code: "no-scraper", error: "the scraper is not a peer of this node: there is no address to judge the filter for" };
  const ok = (source: TailnetPolicyState["source"], filter: FilterSource, selfIps: string[]): TailnetPolicyState => ({ state: "ok", source, flows: nodeFlowVerdicts(filter, selfIps, options.scraperIps) });

  let notify: Notify;
  try {
    notify = await localApiFirstObject<Notify>(socket, WATCH_PATH, options.timeoutMs);
  } catch (error) {
    return { state: "unavailable", code: "localapi", error: `cannot read tailscaled's IPN bus: ${errorText(error)}` };
  }
  if (typeof notify !== "object" || notify === null || Array.isArray(notify)) return { state: "unavailable", code: "malformed", error: "tailscaled's IPN bus sent something other than a Notify object" };
  const netmap = notify.NetMap;
  if (netmap === undefined || netmap === null) return ok(null, { kind: "no-netmap" }, options.selfIps);
  const selfIps = options.selfIps.length ? options.selfIps : (netmap.SelfNode?.Addresses ?? []).map(strip);
  const scraper = new Set(options.scraperIps);
  const scraperJailed = (netmap.Peers ?? []).some((p) => p?.IsJailed === true && (p.Addresses ?? []).some((a) => scraper.has(strip(a))));
  let shieldsUp = notify.Prefs?.ShieldsUp;
  if (typeof shieldsUp !== "boolean") {
    try {
      shieldsUp = (await localApi<{ ShieldsUp?: boolean }>(socket, "GET", "/localapi/v0/prefs", options.timeoutMs)).ShieldsUp === true;
    } catch (error) {
      return { state: "unavailable", code: "localapi", error: `cannot read tailscaled's prefs: ${errorText(error)}` };
    }
  }

  // The field is legacy on the bus and may go: then only the debug endpoint has the filter.
  if ("PacketFilterRules" in netmap) {
    const rules = netmap.PacketFilterRules ?? [];
    const problem = filterShapeProblem(rules);
    if (problem) return { state: "unavailable", code: "malformed", error: `the netmap's PacketFilterRules: ${problem}` };
    return ok("ipn-bus", { kind: "rules", rules, shieldsUp, scraperJailed }, selfIps);
  }
  let rules: unknown;
  try {
    rules = await localApi<unknown>(socket, "POST", DEBUG_RULES_PATH, options.timeoutMs);
  } catch (error) {
    const status = error instanceof LocalApiError ? error.status : undefined;
    if (status === 403) return ok(null, { kind: "permission", user: currentUser() }, selfIps);
    if (status === 404) return { state: "unavailable", code: "no-filter-source", error: "this tailscaled sends no PacketFilterRules on its IPN bus and has no debug-packet-filter-rules endpoint" };
    return { state: "unavailable", code: "localapi", error: `cannot read tailscaled's packet filter: ${errorText(error)}` };
  }
  const problem = filterShapeProblem(rules);
  if (problem) return { state: "unavailable", code: "malformed", error: `debug-packet-filter-rules: ${problem}` };
  return ok("debug-packet-filter-rules", { kind: "rules", rules: rules as FilterRule[], shieldsUp, scraperJailed }, selfIps);
}
