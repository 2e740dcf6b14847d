// The `tailnet` part of NodeState: tailscaled's state, this node's identity and tags, and the
// path to the scraper.
import type { StateEvent } from "../diff";
import type { Alert } from "../receiver/alerts";
import type { ObjectValues } from "../snmp/state-objects";
import { because, labelPairs, text, type PartDefinition, type StateObject } from "./fact";
import type { NodeState } from "./node-state";
import type { TailnetPolicy } from "./tailnet-policy";
import { PROBE_FAILURES, type Unavailable } from "./unavailable";

export type ScraperPath = "direct" | "relay" | "peer-relay" | "idle" | "offline" | "unknown";

export interface ScraperPeer {
  /** The peer that matched `scraper`, or null when none did. */
  found: boolean;
  hostname: string | null;
  dnsName: string | null;
  ips: string[];
  /** Its tailnet tags: the policy entry doctor offers names the scraper by its tag. */
  tags: string[];
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

/**
 * The part as NodeState keeps it: tailscaled's status (what the tailnet probe returns) and, inside
 * it, the tailnet.policy part (tailnet-policy.ts), probed from its results.
 */
export type TailnetPart = (TailnetState | TailnetUnavailable) & { policy: TailnetPolicy };

/**
 * The tailnet part when tailscaled answered, else null. Its `state` is tailscaled's free-form
 * BackendState, so TypeScript cannot narrow the union on `state === "unavailable"` by itself.
 */
export function runningTailnet(tailnet: TailnetState | TailnetUnavailable): TailnetState | null {
  return tailnet.state === "unavailable" ? null : (tailnet as TailnetState);
}

/** The failure of a tailnet part that is unavailable, else null. */
export function tailnetFailure(tailnet: TailnetState | TailnetUnavailable): TailnetUnavailable | null {
  return tailnet.state === "unavailable" ? (tailnet as TailnetUnavailable) : null;
}

/** The path a node reported, as status --json spells it (the MIB's enum label is peerRelay). */
export function pathLabel(values: ObjectValues): string {
  const path = typeof values.edgeAgentScraperPath === "string" ? values.edgeAgentScraperPath : "unknown";
  return path === "peerRelay" ? "peer-relay" : path;
}

export const PATH_VALUES = { unknown: 0, direct: 1, relay: 2, peerRelay: 3, idle: 4, offline: 5 } as const;
export const FAMILY_VALUES = { none: 0, ipv6: 1, ipv4: 2 } as const;

function identityKey(state: NodeState): string {
  const t = runningTailnet(state.tailnet);
  if (!t) return "unavailable";
  return JSON.stringify([t.state, t.dnsName, [...t.ips].sort(), [...t.tags].sort()]);
}

function describeTailnet(state: NodeState, why = false): string {
  const t = runningTailnet(state.tailnet);
  if (!t) return `tailscaled unavailable${because((state.tailnet as TailnetUnavailable).error, why)}`;
  return `tailnet ${t.state}${t.dnsName ? ` as ${t.dnsName}` : ""}, tags ${t.tags.length ? t.tags.join(",") : "none"}${t.missingTags.length ? ` (missing ${t.missingTags.join(",")})` : ""}`;
}

function pathKey(state: NodeState): string {
  const t = runningTailnet(state.tailnet);
  if (!t) return "unknown";
  return `${t.scraper.path} ${t.scraper.family ?? ""}`;
}

function describePath(state: NodeState): string {
  const t = runningTailnet(state.tailnet);
  if (!t) return "path to the scraper unknown (tailscaled unavailable)";
  const s = t.scraper;
  if (s.path === "direct") return `path to the scraper direct over ${s.family ?? "?"} (${s.endpoint})`;
  if (s.path === "relay") return `path to the scraper relayed via DERP ${s.relay ?? "?"}`;
  if (s.path === "peer-relay") return `path to the scraper through peer relay ${s.relay ?? "?"}`;
  return `path to the scraper ${s.path}`;
}

function events(prev: NodeState, next: NodeState): StateEvent[] {
  const out: StateEvent[] = [];
  if (identityKey(prev) !== identityKey(next)) out.push({ kind: "tailnetChanged", summary: `${describeTailnet(next, true)} (was: ${describeTailnet(prev)})` });
  if (pathKey(prev) !== pathKey(next)) out.push({ kind: "pathChanged", summary: `${describePath(next)} (was: ${describePath(prev)})` });
  return out;
}

function problemsAtStart(state: NodeState): string[] {
  const tailnet = runningTailnet(state.tailnet);
  if (!tailnet) return [describeTailnet(state, true)];
  if (tailnet.state !== "Running") return [tailnet.scraper.error ?? `tailscaled is ${tailnet.state}, not Running`];
  return [];
}

const path = (state: NodeState): ScraperPath => runningTailnet(state.tailnet)?.scraper.path ?? "unknown";
const display = (max: number) => ({ kind: "DisplayString" as const, size: [0, max] as [number, number] });

const objects: StateObject[] = [
  { name: "edgeAgentTailnetName", id: 2, access: "read-only", syntax: display(255), description: "The node's MagicDNS name in the tailnet, without the trailing dot; empty when tailscaled is not logged in.", value: (s) => runningTailnet(s.tailnet)?.dnsName ?? "" },
  { name: "edgeAgentTailnetTags", id: 3, access: "read-only", syntax: display(255), description: "The node's tailnet tags, comma-separated (for example tag:monitor); empty when untagged.", value: (s) => runningTailnet(s.tailnet)?.tags.join(",") ?? "" },
  { name: "edgeAgentTailnetAddresses", id: 4, access: "read-only", syntax: display(255), description: "The node's Tailscale IP addresses, comma-separated.", value: (s) => runningTailnet(s.tailnet)?.ips.join(",") ?? "" },
  { name: "edgeAgentTailnetState", id: 5, access: "read-only", syntax: display(64), description: "tailscaled's backend state (Running, NeedsLogin, Stopped, ...) or unavailable when tailscaled cannot be asked.", value: (s) => runningTailnet(s.tailnet)?.state ?? "unavailable" },
  { name: "edgeAgentScraperPath", id: 8, access: "read-only", syntax: { kind: "Enum", values: PATH_VALUES }, description: "How the node reaches the scraper over the tailnet, judged after a disco ping: direct UDP, relayed through DERP, through a peer relay, idle (no recent traffic), offline, or unknown.", value: (s) => (path(s) === "peer-relay" ? "peerRelay" : path(s)) },
  { name: "edgeAgentScraperFamily", id: 9, access: "read-only", syntax: { kind: "Enum", values: FAMILY_VALUES }, description: "The address family of the direct path to the scraper; none when the path is not direct.", value: (s) => (path(s) === "direct" ? runningTailnet(s.tailnet)?.scraper.family ?? "none" : "none") },
  {
    name: "edgeAgentScraperEndpoint", id: 10, access: "read-only", syntax: display(64), description: "The scraper's endpoint (address:port) on the direct path, or the DERP region code when relayed.",
    value: (s) => {
      const t = runningTailnet(s.tailnet);
      return t ? (t.scraper.path === "direct" ? t.scraper.endpoint ?? "" : t.scraper.relay ?? "") : "";
    },
  },
];

function alerts(v: ObjectValues, node: string): Alert[] {
  const p = v.edgeAgentScraperPath;
  if (p !== "relay" && p !== "peerRelay") return [];
  const via = text(v.edgeAgentScraperEndpoint) ? ` via ${text(v.edgeAgentScraperEndpoint)}` : "";
  return [
    {
      labels: { alertname: "EdgeScraperPathRelayed", node, severity: "warning" },
      annotations: {
        summary: `${node}: reaches the scraper through a ${p === "relay" ? "DERP relay" : "peer relay"}${via}, not directly`,
        description: `Run \`edge-agent doctor\` and \`tailscale netcheck\` on ${node} to see why the direct path fails (firewall, missing global IPv6 /64, NAT).`,
      },
    },
  ];
}

function status(state: NodeState): string[] {
  const failed = tailnetFailure(state.tailnet);
  if (failed) return [`tailnet   unavailable: ${failed.error}`];
  const tn = state.tailnet as TailnetState;
  const lines = [`tailnet   ${[tn.state, "as", tn.dnsName || tn.hostname, ...tn.ips].join(" ")}`];
  lines.push(`          tags ${tn.tags.length ? tn.tags.join(", ") : "(none)"}${tn.missingTags.length ? `; missing ${tn.missingTags.join(", ")}` : ""}`);
  if (tn.port !== null) lines.push(`          tailscaled bound UDP port ${tn.port}`);
  const s = tn.scraper;
  if (!s.found) lines.push(`          scraper not found${s.error ? `: ${s.error}` : ""}`);
  else {
    const how = s.path === "direct" ? `direct ${s.endpoint} (${s.family})` : s.path === "relay" ? `relayed via DERP ${s.relay ?? "?"}` : s.path === "peer-relay" ? `peer-relay ${s.relay}` : s.path;
    lines.push(`          scraper ${s.dnsName ?? s.hostname}: ${how}${s.latencyMs !== null ? `, ${s.latencyMs} ms` : ""}${s.error ? ` (${s.error})` : ""}`);
  }
  return lines;
}

export const tailnetPart: PartDefinition = {
  part: "tailnet",
  failures: TAILNET_FAILURES,
  objects,
  series: [
    { name: "edge_agent_tailnet_info", help: "tailscaled's state and this node's tailnet identity (always 1).", labels: ["state", "dns_name", "tags", "version"] },
    { name: "edge_agent_tailnet_running", help: "Whether tailscaled's backend state is Running.", labels: [] },
    { name: "edge_agent_tailnet_missing_tags", help: "How many of tailscale.expectedTags the node does not carry.", labels: [] },
    { name: "edge_agent_tailnet_udp_port", help: "The UDP port tailscaled bound (absent when unknown).", labels: [] },
    { name: "edge_agent_scraper_path", help: "Always 1; path is the current path to the scraper (direct, relay, peer-relay, idle, offline, unknown).", labels: ["path"] },
    { name: "edge_agent_scraper_direct", help: "Whether the path to the scraper is direct UDP (not relayed).", labels: [] },
    { name: "edge_agent_scraper_info", help: "The scraper peer and how it is reached (always 1); family is ipv6, ipv4 or none.", labels: ["peer", "family", "relay"] },
    { name: "edge_agent_scraper_latency_seconds", help: "Round-trip time of the last disco ping to the scraper (absent without an answer).", labels: [] },
  ],
  textfile: (state, out) => {
    const tailnet = runningTailnet(state.tailnet);
    out.set("edge_agent_probe_up", { probe: "tailnet" }, tailnet ? 1 : 0);
    out.set("edge_agent_tailnet_missing_tags", {}, state.tailnet.missingTags.length);
    out.set("edge_agent_tailnet_running", {}, tailnet?.state === "Running" ? 1 : 0);
    const current = path(state);
    out.set("edge_agent_scraper_path", { path: current }, 1);
    out.set("edge_agent_scraper_direct", {}, current === "direct" ? 1 : 0);
    if (tailnet) {
      out.set("edge_agent_tailnet_info", { state: tailnet.state, dns_name: tailnet.dnsName, tags: tailnet.tags.join(","), version: tailnet.version }, 1);
      const s = tailnet.scraper;
      out.set("edge_agent_scraper_info", { peer: s.dnsName ?? s.hostname ?? "", family: s.family ?? "none", relay: s.relay ?? "" }, 1);
    } else {
      out.set("edge_agent_tailnet_info", { state: "unavailable", dns_name: "", tags: "", version: "" }, 1);
    }
    out.setOptional("edge_agent_tailnet_udp_port", tailnet?.port ?? null);
    out.setOptional("edge_agent_scraper_latency_seconds", tailnet && tailnet.scraper.latencyMs !== null ? tailnet.scraper.latencyMs / 1000 : null);
  },
  notifications: [
    { name: "edgeAgentTailnetChanged", id: 4, event: "tailnetChanged", description: "tailscaled's state, the node's tailnet name, addresses or tags changed." },
    { name: "edgeAgentPathChanged", id: 5, event: "pathChanged", description: "The path to the scraper changed (direct, relayed, peer relay, idle, offline) or its address family did." },
  ],
  events,
  problemsAtStart,
  status,
  fleetInfo: [
    { label: "tailnet_name", object: "edgeAgentTailnetName", fallback: "", position: 1 },
    { label: "tags", object: "edgeAgentTailnetTags", fallback: "", position: 3, counted: true },
    { label: "tailnet_state", object: "edgeAgentTailnetState", fallback: "", position: 6, counted: true, problem: (state) => state !== "" && state !== "Running" },
  ],
  page: [
    {
      heading: "Tailnet",
      lines: (v) => {
        const state = text(v.edgeAgentTailnetState) || "unknown";
        return [
          { label: "", value: state, tone: state === "Running" ? "ok" : state === "unknown" ? "none" : "bad" },
          { label: "name", value: text(v.edgeAgentTailnetName), tone: "none" },
          { label: "IPs", value: text(v.edgeAgentTailnetAddresses).split(",").join(", "), tone: "none" },
        ];
      },
    },
    {
      heading: "Tags",
      lines: (v) => {
        const tags = text(v.edgeAgentTailnetTags);
        return [tags ? { label: "", value: tags.split(",").join(", "), tone: "none" } : { label: "", value: "none", tone: "bad" }];
      },
    },
    {
      heading: "Path",
      lines: (v) => {
        const p = pathLabel(v);
        const family = text(v.edgeAgentScraperFamily);
        const endpoint = text(v.edgeAgentScraperEndpoint);
        return [
          { label: "", value: p, tone: p === "direct" ? "ok" : p === "relay" || p === "peer-relay" ? "bad" : "none" },
          ...(family && family !== "none" ? [{ label: "over", value: family, tone: "none" as const }] : []),
          ...(endpoint ? [{ label: p === "direct" ? "to" : "via", value: endpoint, tone: "none" as const }] : []),
        ];
      },
    },
  ],
  fleet: [
    {
      name: "edge_fleet_node_scraper_path",
      help: "Always 1; path says how the node reaches the scraper (direct, relay, peer-relay, idle, offline, unknown), family the direct path's address family. Under receiver.nodeSeries problems only for nodes whose path is not direct.",
      samples: (v) => {
        const path = pathLabel(v);
        return [{ labels: labelPairs([["path", path], ["family", text(v.edgeAgentScraperFamily) || "none"]]), value: 1, problem: path !== "direct" }];
      },
      count: { name: "edge_fleet_nodes_by_scraper_path", help: "Nodes per path to the scraper (direct, relay, peer-relay, idle, offline, unknown) and the direct path's address family." },
    },
  ],
  alerts,
};
