// The tailnet policy as this node's tailscaled enforces it: may the scraper open tcp/9100 and
// udp/161 here? The filter is read by packet-filter-source.ts; the verdicts are node-flows.ts's.
import { existsSync } from "node:fs";
import { nodeFlowVerdicts } from "../policy/node-flows";
import type { TailnetPolicy } from "../state/tailnet-policy";
import { findSocket } from "./localapi";
import { readPacketFilter } from "./packet-filter-source";

export type { NodeFlowId, NodeFlowVerdict } from "../policy/node-flows";
export type { TailnetPolicy, TailnetPolicyState, TailnetPolicyUnavailable } from "../state/tailnet-policy";

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
