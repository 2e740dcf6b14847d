// The host's tailnet identity and its path to the scraper, from tailscaled's LocalAPI (or the
// `tailscale status --json` CLI when the socket is absent). The path is judged after a disco
// ping: `Relay` is only the peer's home DERP region and says nothing about relaying.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import ipaddr from "ipaddr.js";
import type { ScraperPeer, TailnetFailure, TailnetState, TailnetUnavailable } from "../state/tailnet";
import { errorText } from "./deadline";
import { findSocket, localApi } from "./localapi";

/** The fields of ipnstate.PeerStatus the agent reads (Go names are the JSON names). */
export interface PeerStatus {
  ID?: string;
  HostName?: string;
  DNSName?: string;
  OS?: string;
  TailscaleIPs?: string[] | null;
  Tags?: string[] | null;
  Addrs?: string[] | null;
  CurAddr?: string;
  Relay?: string;
  PeerRelay?: string;
  Online?: boolean;
  Active?: boolean;
}

export interface StatusDocument {
  Version?: string;
  BackendState?: string;
  TailscaleIPs?: string[] | null;
  Self?: PeerStatus | null;
  Health?: string[] | null;
  MagicDNSSuffix?: string;
  Peer?: Record<string, PeerStatus> | null;
}

/** ipnstate.PingResult. */
export interface PingResult {
  IP?: string;
  NodeIP?: string;
  NodeName?: string;
  Err?: string;
  LatencySeconds?: number;
  Endpoint?: string;
  PeerRelay?: string;
  DERPRegionID?: number;
  DERPRegionCode?: string;
}

function stripDot(name: string): string {
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/** Matches the configured scraper against a peer's host name, MagicDNS name or Tailscale IP. */
export function findScraper(doc: StatusDocument, scraper: string): PeerStatus | null {
  const wanted = stripDot(scraper.trim().toLowerCase()).replace(/^\[(.*)\]$/, "$1");
  const wantedIp = ipaddr.isValid(wanted) ? ipaddr.parse(wanted).toString() : null;
  for (const peer of Object.values(doc.Peer ?? {})) {
    const dns = stripDot((peer.DNSName ?? "").toLowerCase());
    if ((peer.HostName ?? "").toLowerCase() === wanted) return peer;
    if (dns && (dns === wanted || dns.split(".")[0] === wanted)) return peer;
    if (wantedIp && (peer.TailscaleIPs ?? []).some((ip) => ipaddr.isValid(ip) && ipaddr.parse(ip).toString() === wantedIp)) return peer;
  }
  return null;
}

export function endpointFamily(endpoint: string): "ipv6" | "ipv4" | null {
  if (endpoint.startsWith("[")) return "ipv6";
  if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(endpoint)) return "ipv4";
  return null;
}

/** The UDP port tailscaled bound, read from the local endpoints in Self.Addrs. */
export function boundPort(doc: StatusDocument): number | null {
  for (const addr of doc.Self?.Addrs ?? []) {
    const match = /:(\d+)$/.exec(addr);
    if (match) return Number(match[1]);
  }
  return null;
}

function emptyPeer(): ScraperPeer {
  return { found: false, hostname: null, dnsName: null, ips: [], tags: [], online: false, path: "unknown", endpoint: null, family: null, relay: null, latencyMs: null };
}

/**
 * Pure: the path to the scraper from the status document and, when one was made, a disco ping.
 * The ping's own answer wins (it says how the pong came back); status fields are the fallback,
 * read the way `tailscale status` prints them.
 */
export function judgePath(peer: PeerStatus | null, ping: PingResult | null, pingError: string | null): ScraperPeer {
  if (!peer) return { ...emptyPeer(), error: "no peer in the tailnet matches the configured scraper" };
  const base: ScraperPeer = {
    ...emptyPeer(),
    found: true,
    hostname: peer.HostName ?? null,
    dnsName: peer.DNSName ?? null,
    ips: peer.TailscaleIPs ?? [],
    tags: peer.Tags ?? [],
    online: peer.Online === true,
  };
  if (ping && !ping.Err) {
    const latencyMs = typeof ping.LatencySeconds === "number" ? Math.round(ping.LatencySeconds * 1e6) / 1e3 : null;
    if (ping.Endpoint) return { ...base, online: true, path: "direct", endpoint: ping.Endpoint, family: endpointFamily(ping.Endpoint), latencyMs };
    if (ping.PeerRelay) return { ...base, online: true, path: "peer-relay", relay: ping.PeerRelay, latencyMs };
    if (ping.DERPRegionCode) return { ...base, online: true, path: "relay", relay: ping.DERPRegionCode, latencyMs };
  }
  if (peer.Online === false) return { ...base, path: "offline", error: pingError ?? undefined };
  if (peer.CurAddr) return { ...base, path: "direct", endpoint: peer.CurAddr, family: endpointFamily(peer.CurAddr), error: pingError ?? undefined };
  if (peer.PeerRelay) return { ...base, path: "peer-relay", relay: peer.PeerRelay, error: pingError ?? undefined };
  if (peer.Active) return { ...base, path: "relay", relay: peer.Relay || null, error: pingError ?? undefined };
  if (pingError) return { ...base, path: "unknown", error: pingError };
  return { ...base, path: "idle" };
}

/** Pure: this node's Tailscale IPs in a status document. */
function ownIps(doc: StatusDocument): string[] {
  return doc.TailscaleIPs ?? doc.Self?.TailscaleIPs ?? [];
}

/** Pure: the status document (and the scraper's judged path) -> the `tailnet` part of NodeState. */
export function summariseTailnet(doc: StatusDocument, source: "localapi" | "cli", expectedTags: string[], scraper: ScraperPeer): TailnetState {
  const tags = doc.Self?.Tags ?? [];
  return {
    state: doc.BackendState ?? "NoState",
    source,
    version: doc.Version ?? "",
    hostname: doc.Self?.HostName ?? "",
    dnsName: stripDot(doc.Self?.DNSName ?? ""),
    ips: ownIps(doc),
    tags,
    missingTags: expectedTags.filter((t) => !tags.includes(t)),
    port: boundPort(doc),
    health: doc.Health ?? [],
    scraper,
  };
}

const isStringList = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.every((x) => typeof x === "string"));

/** Pure: what is wrong with a document that claims to be a status, or null when it can be read. */
export function shapeProblem(doc: unknown): string | null {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return "not a JSON object";
  const d = doc as Record<string, unknown>;
  if (typeof d.BackendState !== "string") return "no BackendState";
  if (!isStringList(d.TailscaleIPs)) return "TailscaleIPs is not a list of addresses";
  const peers = d.Peer;
  if (peers !== undefined && peers !== null && (typeof peers !== "object" || Array.isArray(peers))) return "Peer is not a mapping";
  const all = [["Self", d.Self], ...Object.entries((peers ?? {}) as Record<string, unknown>).map(([k, v]) => [`Peer[${k}]`, v])] as [string, unknown][];
  for (const [name, p] of all) {
    if (p === undefined || (name === "Self" && p === null)) continue;
    if (typeof p !== "object" || p === null || Array.isArray(p)) return `${name} is not an object`;
    const ps = p as Record<string, unknown>;
    for (const key of ["TailscaleIPs", "Tags", "Addrs"]) if (!isStringList(ps[key])) return `${name}.${key} is not a list of strings`;
    for (const key of ["HostName", "DNSName", "CurAddr", "Relay", "PeerRelay"]) if (ps[key] !== undefined && typeof ps[key] !== "string") return `${name}.${key} is not a string`;
  }
  return null;
}

/** Why the scraper cannot be judged in this backend state, and what a person does about it. */
export function notRunning(state: string): string {
  const fix: Record<string, string> = {
    NeedsLogin: "log in with: sudo tailscale up",
    NeedsMachineAuth: "an admin must approve this machine in the Tailscale admin console",
    Stopped: "start it with: sudo tailscale up",
    Starting: "it is still connecting; try again in a few seconds",
  };
  return `tailscaled is ${state}, not Running${fix[state] ? `: ${fix[state]}` : ""}`;
}

function pickPingAddress(peer: PeerStatus): string | null {
  const ips = peer.TailscaleIPs ?? [];
  return ips.find((ip) => ip.includes(".")) ?? ips[0] ?? null;
}

function cliStatus(timeoutMs: number): Promise<StatusDocument> {
  return new Promise((resolve, reject) => {
    execFile("tailscale", ["status", "--json"], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error && !stdout) return reject(error);
      try {
        resolve(JSON.parse(stdout) as StatusDocument);
      } catch {
        reject(new Error("`tailscale status --json` did not print JSON"));
      }
    });
  });
}

function cliExists(): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(`${dir}/tailscale`));
}

export interface TailnetProbeOptions {
  socket: string | null;
  scraper: string;
  expectedTags: string[];
  timeoutMs: number;
  /** Disco-ping the scraper before judging the path (doctor and the daemon do; tests may not). */
  ping: boolean;
  /**
   * Told this node's Tailscale IPs (the result's `ips`) once the status is read, before the disco
   * ping: what needs only the IPs (the services' probes) need not wait for the scraper's answer.
   */
  onIps?: (ips: string[]) => void;
}

export async function probeTailnet(options: TailnetProbeOptions): Promise<TailnetState | TailnetUnavailable> {
  const socket = findSocket(options.socket);
  const unavailable = (code: TailnetFailure, error: string): TailnetUnavailable => ({ state: "unavailable", code, error, missingTags: [...options.expectedTags] });
  let doc: StatusDocument;
  let source: "localapi" | "cli";
  try {
    if (socket && existsSync(socket)) {
      doc = await localApi<StatusDocument>(socket, "GET", "/localapi/v0/status", options.timeoutMs);
      source = "localapi";
    } else if (cliExists()) {
      doc = await cliStatus(options.timeoutMs);
      source = "cli";
    } else {
      return unavailable("not-installed", `tailscaled is not running here: no LocalAPI socket at ${socket ?? "/run/tailscale/tailscaled.sock"} and no tailscale CLI (install Tailscale, then run: sudo tailscale up)`);
    }
  } catch (error) {
    return unavailable("status-unreadable", `cannot read tailscaled's status: ${errorText(error)}`);
  }
  const malformed = shapeProblem(doc);
  if (malformed) return unavailable("status-malformed", `tailscaled's status is not a status document: ${malformed}`);
  options.onIps?.(ownIps(doc));

  const peer = doc.BackendState === "Running" ? findScraper(doc, options.scraper) : null;
  let ping: PingResult | null = null;
  let pingError: string | null = null;
  const target = peer ? pickPingAddress(peer) : null;
  // A peer the control plane reports offline never answers: tailscaled would hold the ping
  // until our timeout, so spare the wait and report it offline.
  if (peer && target && options.ping && source === "localapi" && peer.Online !== false) {
    try {
      ping = await localApi<PingResult>(socket!, "POST", `/localapi/v0/ping?ip=${encodeURIComponent(target)}&type=disco`, options.timeoutMs);
      if (ping.Err) pingError = `disco ping to ${target} failed: ${ping.Err}`;
    } catch (error) {
      pingError = `disco ping to ${target} failed: ${errorText(error)}`;
    }
  }
  const scraper = doc.BackendState === "Running" ? judgePath(peer, ping, pingError) : { ...emptyPeer(), error: notRunning(doc.BackendState ?? "NoState") };
  return summariseTailnet(doc, source, options.expectedTags, scraper);
}
