// The `tailnet` part of NodeState: tailscaled's state, this node's identity and tags, and the
// path to the scraper.
import { PROBE_FAILURES, type Unavailable } from "./unavailable";

export type ScraperPath = "direct" | "relay" | "peer-relay" | "idle" | "offline" | "unknown";

export interface ScraperPeer {
  /** The peer that matched `scraper`, or null when none did. */
  found: boolean;
  hostname: string | null;
  dnsName: string | null;
  ips: string[];
  online: boolean;
  path: ScraperPath;
  /** ip:port of the direct UDP path, when direct. */
  endpoint: string | null;
  /** Address family of the direct path. */
  family: "ipv6" | "ipv4" | null;
  /** DERP region code when relayed (or the peer relay's address for peer-relay). */
  relay: string | null;
  latencyMs: number | null;
  /** Why the path could not be decided, when it could not. */
  error?: string;
}

export interface TailnetState {
  /** tailscaled's BackendState (Running, NeedsLogin, Stopped, ...). */
  state: string;
  source: "localapi" | "cli";
  version: string;
  hostname: string;
  dnsName: string;
  ips: string[];
  tags: string[];
  missingTags: string[];
  /** The UDP port tailscaled bound, from Self.Addrs; null when it lists none. */
  port: number | null;
  health: string[];
  scraper: ScraperPeer;
}

/**
 * not-installed: no LocalAPI socket and no tailscale CLI; status-unreadable: tailscaled did not
 * answer its status; status-malformed: it answered with something else than a status document.
 */
export const TAILNET_FAILURES = ["not-installed", "status-unreadable", "status-malformed", ...PROBE_FAILURES] as const;
export type TailnetFailure = (typeof TAILNET_FAILURES)[number];

export interface TailnetUnavailable extends Unavailable<TailnetFailure> {
  missingTags: string[];
}

export type TailnetPart = TailnetState | TailnetUnavailable;

/**
 * The tailnet part when tailscaled answered, else null. Its `state` is tailscaled's free-form
 * BackendState, so TypeScript cannot narrow the union on `state === "unavailable"` by itself.
 */
export function runningTailnet(tailnet: TailnetPart): TailnetState | null {
  return tailnet.state === "unavailable" ? null : (tailnet as TailnetState);
}

/** The failure of a tailnet part that is unavailable, else null. */
export function tailnetFailure(tailnet: TailnetPart): TailnetUnavailable | null {
  return tailnet.state === "unavailable" ? (tailnet as TailnetUnavailable) : null;
}
