// The one allowed stand-in: a tailscaled LocalAPI server on a unix socket answering with
// documents of the real shape (ipnstate.Status, PingResult, apitype.WhoIsResponse, ipn.Prefs,
// and the packet filter: tailcfg.FilterRule lists on debug-packet-filter-rules and in the netmap
// of the IPN bus's first Notify). Tests set `scenario` and the server answers from it; it refuses
// Referer/Origin like tailscaled.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FilterRule } from "../../agent/policy/packet-filter";

type Endpoint = "status" | "ping" | "whois" | "prefs" | "watch-ipn-bus" | "debug-packet-filter-rules";

export type ScraperPathScenario = "direct6" | "direct4" | "relay" | "peer-relay" | "idle" | "offline";

export interface Scenario {
  backendState: "Running" | "NeedsLogin" | "NeedsMachineAuth" | "Stopped" | "Starting" | "NoState";
  selfHostName: string;
  selfTags: string[] | null;
  selfIps: string[];
  /** Local endpoints; the port is the one tailscaled bound. */
  selfAddrs: string[];
  scraperPath: ScraperPathScenario;
  scraperHostName: string;
  scraperIps: string[];
  /** Override any endpoint's raw answer (garbage JSON, errors). */
  raw?: Partial<Record<Endpoint, { status: number; body: string }>>;
  /** Never answer these endpoints (the client's timeout must hold). */
  hang?: Endpoint[];
  /** whois answers, keyed by Tailscale IP. */
  whois?: Record<string, { hostName: string; tags: string[] }>;
  netfilterMode?: 0 | 1 | 2;
  /** The filter control sent this node (the netmap's PacketFilterRules); null: no netmap. Default: seedFilterRules. */
  packetFilter?: FilterRule[] | null;
  shieldsUp?: boolean;
  /** The caller's LocalAPI access: with "read", debug endpoints answer 403 (default "write": root). */
  access?: "read" | "write";
  /** A tailscaled whose IPN bus netmap no longer carries PacketFilterRules (the field is legacy). */
  busWithoutRules?: boolean;
  /** A ts_omit_debug build: the debug endpoints are not registered (404). */
  noDebugEndpoints?: boolean;
  /** Control marks the scraper peer IsJailed. */
  scraperJailed?: boolean;
  /** More peers, as the scraper's tailscaled sees the fleet: in status's Peer map and the netmap's Peers. */
  peers?: ExtraPeer[];
}

export interface ExtraPeer {
  hostName: string;
  ips: string[];
  tags?: string[];
  online?: boolean;
  /** Its MagicDNS name when not `<hostName>.<suffix>.` (e.g. one that is no DNS label). */
  dnsName?: string;
}

export function defaultScenario(): Scenario {
  return {
    backendState: "Running",
    selfHostName: "node1",
    selfTags: ["tag:monitor"],
    selfIps: ["100.101.102.103", "fd7a:115c:a1e0::1234:5678"],
    selfAddrs: ["[2001:db8:100:1::10]:41641", "192.0.2.10:41641"],
    scraperPath: "direct6",
    scraperHostName: "scraper",
    scraperIps: ["100.64.0.1", "fd7a:115c:a1e0::1"],
  };
}

const SUFFIX = "example-tailnet.ts.net";

const hostPrefix = (ip: string) => (ip.includes(":") ? `${ip}/128` : `${ip}/32`);
const ports = (port: number) => ({ First: port, Last: port });

/**
 * The seed policy of DESIGN.md as control compiles it for this node: tag names resolved to the
 * tagged nodes' addresses (the scraper's; this node's for the notify rule), one DstPorts entry
 * per address. The third rule's destination is the scraper, so it admits nothing here.
 */
export function seedFilterRules(s: Scenario): FilterRule[] {
  return [
    { SrcIPs: [...s.scraperIps], DstPorts: s.selfIps.map((ip) => ({ IP: ip, Ports: ports(9100) })), IPProto: [6] },
    { SrcIPs: [...s.scraperIps], DstPorts: s.selfIps.map((ip) => ({ IP: ip, Ports: ports(161) })), IPProto: [17] },
    { SrcIPs: [...s.selfIps], DstPorts: s.scraperIps.map((ip) => ({ IP: ip, Ports: ports(162) })), IPProto: [17] },
  ];
}

/** netmap.NetworkMap as the IPN bus sends it (no JSON tags: Go field names), or null without one. */
export function netmapDocument(s: Scenario): Record<string, unknown> | null {
  const rules = s.packetFilter === undefined ? seedFilterRules(s) : s.packetFilter;
  if (rules === null || s.backendState !== "Running") return null;
  const netmap: Record<string, unknown> = {
    SelfNode: { ID: 1001, StableID: "nN0DE1CNTRL", Name: `${s.selfHostName}.${SUFFIX}.`, User: 1234567890, Addresses: s.selfIps.map(hostPrefix), AllowedIPs: s.selfIps.map(hostPrefix), Tags: s.selfTags ?? undefined, Online: true, MachineAuthorized: true },
    NodeKey: "nodekey:1111111111111111111111111111111111111111111111111111111111111111",
    PrivateKey: "privkey:0000000000000000000000000000000000000000000000000000000000000000",
    Expiry: "2027-05-27T00:00:00Z",
    Name: `${s.selfHostName}.${SUFFIX}.`,
    MachineKey: "mkey:2222222222222222222222222222222222222222222222222222222222222222",
    Peers: [
      { ID: 1002, StableID: "n5CRAPER1CNTRL", Name: `${s.scraperHostName}.${SUFFIX}.`, User: 1234567890, Addresses: s.scraperIps.map(hostPrefix), AllowedIPs: s.scraperIps.map(hostPrefix), Tags: ["tag:scraper"], Online: s.scraperPath !== "offline", ...(s.scraperJailed ? { IsJailed: true } : {}) },
      ...(s.peers ?? []).map((p, i) => ({ ID: 2000 + i, StableID: `nPEER${i}CNTRL`, Name: p.dnsName ?? `${p.hostName}.${SUFFIX}.`, User: 1234567890, Addresses: p.ips.map(hostPrefix), AllowedIPs: p.ips.map(hostPrefix), Tags: p.tags, Online: p.online ?? true })),
    ],
    DNS: { Domains: [SUFFIX], Proxied: true },
    PacketFilterRules: rules,
    SSHPolicy: null,
    CollectServices: false,
    DERPMap: { Regions: {} },
    ControlHealth: null,
    TKAEnabled: false,
    Domain: "example@github",
    DomainAuditLogID: "",
    UserProfiles: { "1234567890": { ID: 1234567890, LoginName: "example@github", DisplayName: "Example" } },
  };
  if (s.busWithoutRules) delete netmap.PacketFilterRules;
  return netmap;
}
const SCRAPER_KEY = "nodekey:5c0a7e5c0a7e5c0a7e5c0a7e5c0a7e5c0a7e5c0a7e5c0a7e5c0a7e5c0a7e5c0a";
const OTHER_KEY = "nodekey:0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e";

function peer(s: Scenario): Record<string, unknown> {
  const path = s.scraperPath;
  const online = path !== "offline";
  const active = path !== "idle" && path !== "offline";
  const curAddr = path === "direct6" ? "[2001:db8:200:1::1]:41641" : path === "direct4" ? "198.51.100.7:41641" : "";
  return {
    ID: "n5CRAPER1CNTRL",
    PublicKey: SCRAPER_KEY,
    HostName: s.scraperHostName,
    DNSName: `${s.scraperHostName}.${SUFFIX}.`,
    OS: "linux",
    UserID: 1234567890,
    TailscaleIPs: s.scraperIps,
    AllowedIPs: s.scraperIps.map((ip) => (ip.includes(":") ? `${ip}/128` : `${ip}/32`)),
    Tags: ["tag:scraper"],
    PrimaryRoutes: null,
    Addrs: null,
    CurAddr: curAddr,
    Relay: "fra",
    PeerRelay: path === "peer-relay" ? "[2001:db8:300::5]:40000:vni:7" : "",
    RxBytes: active ? 123456 : 0,
    TxBytes: active ? 654321 : 0,
    Created: "2026-01-01T00:00:00Z",
    LastWrite: "2026-11-28T12:00:00Z",
    LastSeen: online ? "0001-01-01T00:00:00Z" : "2026-11-27T09:00:00Z",
    LastHandshake: active ? "2026-11-28T12:00:00Z" : "0001-01-01T00:00:00Z",
    Online: online,
    ExitNode: false,
    ExitNodeOption: false,
    Active: active,
    PeerAPIURL: s.scraperIps.map((ip) => `http://${ip.includes(":") ? `[${ip}]` : ip}:41234`),
    Capabilities: null,
    InNetworkMap: true,
    InMagicSock: true,
    InEngine: true,
    KeyExpiry: "2027-05-27T00:00:00Z",
  };
}

export function statusDocument(s: Scenario): Record<string, unknown> {
  const running = s.backendState === "Running";
  const self: Record<string, unknown> = {
    ID: "nN0DE1CNTRL",
    PublicKey: "nodekey:1111111111111111111111111111111111111111111111111111111111111111",
    HostName: s.selfHostName,
    DNSName: running ? `${s.selfHostName}.${SUFFIX}.` : "",
    OS: "linux",
    UserID: 1234567890,
    TailscaleIPs: running ? s.selfIps : null,
    Addrs: running ? s.selfAddrs : null,
    CurAddr: "",
    Relay: "fra",
    RxBytes: 0,
    TxBytes: 0,
    Created: "2026-01-01T00:00:00Z",
    LastWrite: "0001-01-01T00:00:00Z",
    LastSeen: "0001-01-01T00:00:00Z",
    LastHandshake: "0001-01-01T00:00:00Z",
    Online: running,
    ExitNode: false,
    ExitNodeOption: false,
    Active: false,
    InNetworkMap: true,
    InMagicSock: false,
    InEngine: false,
  };
  if (s.selfTags && s.selfTags.length > 0) self.Tags = s.selfTags;
  return {
    Version: "1.90.6-tc0ffee-gdeadbeef",
    TUN: true,
    BackendState: s.backendState,
    HaveNodeKey: true,
    AuthURL: s.backendState === "NeedsLogin" ? "https://login.tailscale.com/a/0123456789ab" : "",
    TailscaleIPs: running ? s.selfIps : null,
    Self: self,
    Health: s.backendState === "NeedsLogin" ? ["You are logged out."] : [],
    MagicDNSSuffix: SUFFIX,
    CurrentTailnet: running ? { Name: "example@github", MagicDNSSuffix: SUFFIX, MagicDNSEnabled: true } : null,
    CertDomains: null,
    Peer: running
      ? {
          [SCRAPER_KEY]: peer(s),
          [OTHER_KEY]: { ...peer({ ...s, scraperPath: "idle" }), ID: "nOTHER", PublicKey: OTHER_KEY, HostName: "laptop", DNSName: `laptop.${SUFFIX}.`, TailscaleIPs: ["100.90.1.2", "fd7a:115c:a1e0::9"], Tags: undefined },
          ...Object.fromEntries(
            (s.peers ?? []).map((p, i) => {
              const key = `nodekey:${i.toString(16).padStart(64, "e")}`;
              const online = p.online ?? true;
              return [key, { ...peer({ ...s, scraperPath: online ? "idle" : "offline" }), ID: `nPEER${i}CNTRL`, PublicKey: key, HostName: p.hostName, DNSName: p.dnsName ?? `${p.hostName}.${SUFFIX}.`, TailscaleIPs: p.ips, AllowedIPs: p.ips.map(hostPrefix), Tags: p.tags, PeerAPIURL: [] }];
            }),
          ),
        }
      : null,
    User: { "1234567890": { ID: 1234567890, LoginName: "example@github", DisplayName: "Example", ProfilePicURL: "" } },
    ClientVersion: null,
  };
}

/** The PingResult tailscaled sends for a disco ping, or null when it never answers (offline). */
export function pingResult(s: Scenario, ip: string): Record<string, unknown> | null {
  const base = { IP: ip, NodeIP: s.scraperIps[0], NodeName: `${s.scraperHostName}.${SUFFIX}.`, LatencySeconds: 0.0123 };
  switch (s.scraperPath) {
    case "direct6":
      return { ...base, Endpoint: "[2001:db8:200:1::1]:41641" };
    case "direct4":
      return { ...base, Endpoint: "198.51.100.7:41641" };
    case "relay":
    case "idle":
      return { ...base, DERPRegionID: 4, DERPRegionCode: "fra", LatencySeconds: 0.0456 };
    case "peer-relay":
      return { ...base, PeerRelay: "[2001:db8:300::5]:40000:vni:7" };
    case "offline":
      return null;
  }
}

function prefsDocument(s: Scenario): Record<string, unknown> {
  return { ControlURL: "https://controlplane.tailscale.com", RouteAll: false, WantRunning: s.backendState === "Running", ShieldsUp: s.shieldsUp ?? false, AdvertiseTags: s.selfTags, NetfilterMode: s.netfilterMode ?? 2, Hostname: "" };
}

export interface FakeTailscaled {
  socket: string;
  scenario: Scenario;
  requests: { method: string; url: string }[];
  stop: () => Promise<void>;
}

export async function startFakeTailscaled(scenario: Scenario = defaultScenario(), socketPath?: string): Promise<FakeTailscaled> {
  const dir = socketPath ? null : mkdtempSync(join(tmpdir(), "ea-tailscaled-"));
  const socket = socketPath ?? join(dir!, "tailscaled.sock");
  const state: FakeTailscaled = { socket, scenario, requests: [], stop: async () => {} };
  const server: Server = createServer((req, res) => {
    state.requests.push({ method: req.method ?? "", url: req.url ?? "" });
    const s = state.scenario;
    if (req.headers.referer || req.headers.origin) {
      res.writeHead(403).end("invalid localapi request\n");
      return;
    }
    const url = new URL(req.url ?? "/", "http://local-tailscaled.sock");
    const endpoint = url.pathname.replace("/localapi/v0/", "") as Endpoint;
    if (s.hang?.includes(endpoint)) return; // never answers
    const raw = s.raw?.[endpoint];
    if (raw) {
      res.writeHead(raw.status, { "Content-Type": "application/json" }).end(raw.body);
      return;
    }
    const json = (body: unknown) => res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body, null, "\t"));
    if (endpoint === "status" && req.method === "GET") return json(statusDocument(s));
    if (endpoint === "ping" && req.method === "POST") {
      const ip = url.searchParams.get("ip") ?? "";
      if (url.searchParams.get("type") !== "disco") return void res.writeHead(400).end("unsupported ping type\n");
      if (!s.scraperIps.includes(ip)) return json({ IP: ip, Err: "no matching peer" });
      const result = pingResult(s, ip);
      // tailscaled holds a ping to an unreachable peer until the client gives up.
      if (result === null) return;
      return json(result);
    }
    if (endpoint === "whois" && req.method === "GET") {
      const addr = (url.searchParams.get("addr") ?? "").replace(/^\[?([^\]]*?)\]?(:\d+)?$/, "$1");
      const who = s.whois?.[addr];
      if (!who) return void res.writeHead(404).end("no match for IP:port\n");
      return json({
        Node: { ID: 1, StableID: "nX", Name: `${who.hostName}.${SUFFIX}.`, Addresses: [`${addr}/32`], Tags: who.tags, Hostinfo: { Hostname: who.hostName } },
        UserProfile: { ID: 1, LoginName: "tagged-devices", DisplayName: "tagged-devices" },
      });
    }
    if (endpoint === "prefs" && req.method === "GET") return json(prefsDocument(s));
    if (endpoint === "watch-ipn-bus" && req.method === "GET") {
      const mask = Number(url.searchParams.get("mask") ?? "0");
      // Older tailscaleds refuse a read-only watcher that does not ask for private keys to be left out.
      if ((mask & 16) === 0 && s.access === "read") return void res.writeHead(403).end("watch IPN bus access denied, must set ipn.NotifyNoPrivateKeys when not running as admin/root or operator\n");
      const first: Record<string, unknown> = { Version: "1.90.6-tc0ffee-gdeadbeef" };
      if (mask & 2) first.State = s.backendState === "Running" ? 6 : 2;
      if (mask & 4) first.Prefs = prefsDocument(s);
      const netmap = netmapDocument(s);
      // Current tailscaleds always send the private key zeroed, whatever the mask.
      if (mask & 8 && netmap) first.NetMap = netmap;
      // An endless stream: the first Notify, then nothing until the watcher hangs up.
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write(`${JSON.stringify(first)}\n`);
      return;
    }
    if (endpoint === "debug-packet-filter-rules" && !s.noDebugEndpoints) {
      if (s.access === "read") return void res.writeHead(403).end("debug access denied\n");
      const netmap = netmapDocument(s);
      if (!netmap) return void res.writeHead(404).end("no netmap\n");
      return json(s.packetFilter === undefined ? seedFilterRules(s) : s.packetFilter);
    }
    res.writeHead(404).end("404 page not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.on("error", reject);
    server.listen(socket, () => resolve());
  });
  state.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections?.();
      server.close(() => {
        if (dir) rmSync(dir, { recursive: true, force: true });
        resolve();
      });
    });
  return state;
}
