// The tailnet policy as this node's tailscaled enforces it: may the scraper open tcp/9100 and
// udp/161 here? The filter is read by packet-filter-source.ts; the verdicts are node-flows.ts's.
import { existsSync } from "node:fs";
import { nodeFlowVerdicts, type NodeFlowVerdict } from "../policy/node-flows";
import { findSocket } from "./localapi";
import { readPacketFilter, type FilterUnreadable } from "./packet-filter-source";

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
 * wrong `scraper` setting); localapi, malformed, no-filter-source: see FilterUnreadable.
 */
export interface TailnetPolicyUnavailable {
  state: "unavailable";
  code: "no-socket" | "no-scraper" | FilterUnreadable["code"];
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

export async function probeTailnetPolicy(options: TailnetPolicyProbeOptions): Promise<TailnetPolicy> {
  const socket = findSocket(options.socket);
  if (!socket || !existsSync(socket)) return { state: "unavailable", code: "no-socket", error: `no tailscaled LocalAPI socket at ${socket ?? "/run/tailscale/tailscaled.sock"}` };
  if (!options.scraperIps.length) return { state: "unavailable", code: "no-scraper", error: "the scraper is not a peer of this node: there is no address to judge the filter for" };
  const reading = await readPacketFilter(socket, options.timeoutMs);
  if (reading.state === "unavailable") return reading;
  const selfIps = options.selfIps.length ? options.selfIps : reading.selfIps;
  return { state: "ok", source: reading.origin, flows: nodeFlowVerdicts(reading.source, selfIps, options.scraperIps) };
}
