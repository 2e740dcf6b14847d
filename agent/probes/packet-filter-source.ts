// Reads the packet filter this host's tailscaled enforces, for either direction (the node's
// 9100/161, the scraper's 162): from the IPN bus's first Notify (its netmap's PacketFilterRules
// and the ShieldsUp pref; read access is enough), else from debug-packet-filter-rules (root or
// the operator only). Never throws: failures are data with a code.
import { userInfo } from "node:os";
import type { FilterSource } from "../policy/filter-source";
import { filterShapeProblem, type FilterRule } from "../policy/packet-filter";
import { errorText } from "./deadline";
import { localApi, LocalApiError } from "./localapi";
import { localApiFirstObject } from "./localapi-stream";

/** NotifyInitialPrefs (4) | NotifyInitialNetMap (8) | NotifyNoPrivateKeys (16): older tailscaleds refuse read-only watchers without 16. */
export const WATCH_PATH = "/localapi/v0/watch-ipn-bus?mask=28";
export const DEBUG_RULES_PATH = "/localapi/v0/debug-packet-filter-rules";

export interface FilterReading {
  state: "ok";
  /** Where the filter came from; null when it could not be read (no netmap, no permission). */
  origin: "ipn-bus" | "debug-packet-filter-rules" | null;
  source: FilterSource;
  /** This host's Tailscale addresses per the netmap (empty without one). */
  selfIps: string[];
}

/**
 * localapi: tailscaled failed or did not answer in time; malformed: an answer of the wrong shape;
 * no-filter-source: this tailscaled offers the filter on neither endpoint.
 */
export interface FilterUnreadable {
  state: "unavailable";
  code: "localapi" | "malformed" | "no-filter-source";
  error: string;
}

/** The parts of ipn.Notify and netmap.NetworkMap read here (Go field names are the keys). */
interface Notify {
  Prefs?: { ShieldsUp?: boolean } | null;
  NetMap?: {
    PacketFilterRules?: FilterRule[] | null;
    SelfNode?: { Addresses?: string[] | null } | null;
    Peers?: { Addresses?: string[] | null; IsJailed?: boolean }[] | null;
  } | null;
}

/** The user this process runs as: the one tailscaled refuses or grants its packet filter to. */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? "this user");
  }
}

const strip = (ip: string) => ip.replace(/\/\d+$/, "");

export async function readPacketFilter(socket: string, timeoutMs: number): Promise<FilterReading | FilterUnreadable> {
  let notify: Notify;
  try {
    notify = await localApiFirstObject<Notify>(socket, WATCH_PATH, timeoutMs);
  } catch (error) {
    return { state: "unavailable", code: "localapi", error: `cannot read tailscaled's IPN bus: ${errorText(error)}` };
  }
  if (typeof notify !== "object" || notify === null || Array.isArray(notify)) return { state: "unavailable", code: "malformed", error: "tailscaled's IPN bus sent something other than a Notify object" };
  const netmap = notify.NetMap;
  if (netmap === undefined || netmap === null) return { state: "ok", origin: null, source: { kind: "no-netmap" }, selfIps: [] };
  const selfIps = (netmap.SelfNode?.Addresses ?? []).map(strip);
  const jailed = (netmap.Peers ?? []).filter((p) => p?.IsJailed === true).flatMap((p) => (p.Addresses ?? []).map(strip));
  let shieldsUp = notify.Prefs?.ShieldsUp;
  if (typeof shieldsUp !== "boolean") {
    try {
      shieldsUp = (await localApi<{ ShieldsUp?: boolean }>(socket, "GET", "/localapi/v0/prefs", timeoutMs)).ShieldsUp === true;
    } catch (error) {
      return { state: "unavailable", code: "localapi", error: `cannot read tailscaled's prefs: ${errorText(error)}` };
    }
  }

  // The field is legacy on the bus and may go: then only the debug endpoint has the filter.
  if ("PacketFilterRules" in netmap) {
    const rules = netmap.PacketFilterRules ?? [];
    const problem = filterShapeProblem(rules);
    if (problem) return { state: "unavailable", code: "malformed", error: `the netmap's PacketFilterRules: ${problem}` };
    return { state: "ok", origin: "ipn-bus", source: { kind: "rules", rules, shieldsUp, jailed }, selfIps };
  }
  let rules: unknown;
  try {
    rules = await localApi<unknown>(socket, "POST", DEBUG_RULES_PATH, timeoutMs);
  } catch (error) {
    const status = error instanceof LocalApiError ? error.status : undefined;
    if (status === 403) return { state: "ok", origin: null, source: { kind: "permission", user: currentUser() }, selfIps };
    if (status === 404) return { state: "unavailable", code: "no-filter-source", error: "this tailscaled sends no PacketFilterRules on its IPN bus and has no debug-packet-filter-rules endpoint" };
    return { state: "unavailable", code: "localapi", error: `cannot read tailscaled's packet filter: ${errorText(error)}` };
  }
  const problem = filterShapeProblem(rules);
  if (problem) return { state: "unavailable", code: "malformed", error: `debug-packet-filter-rules: ${problem}` };
  return { state: "ok", origin: "debug-packet-filter-rules", source: { kind: "rules", rules: rules as FilterRule[], shieldsUp, jailed }, selfIps };
}
