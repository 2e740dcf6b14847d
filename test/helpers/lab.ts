// Reading the netns lab from a test: Prometheus's and Alertmanager's HTTP APIs, the receiver's
// /metrics, file_sd file and JSON log, and SNMP GETs sent from the scraper over the tailnet. All of
// it goes through the lab's namespaces (curl and snmpget run inside the scraper's). In the pair
// lab each reading is of one scraper (the first unless named), and the webhook sink's file says
// what the Alertmanager cluster sent.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fetchIn, type LabState } from "../../scripts/netns-lab/lab";
import { inNs } from "../../scripts/netns-lab/network";
import { PORTS, labPaths } from "../../scripts/netns-lab/services";
import { COMMUNITY, TAILSCALED_PORT, nodeByName, scraperNode } from "../../scripts/netns-lab/topology";
import { netSnmpEnv } from "./snmpd";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition -> samples (enough of the format for the receiver's /metrics). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

const FIRST = scraperNode().name;

function scraperNs(state: LabState, scraper = FIRST): string {
  return state.network.namespaces[scraper];
}

export function fleetMetrics(state: LabState, scraper = FIRST): Sample[] {
  return parseExposition(fetchIn(scraperNs(state, scraper), `http://127.0.0.1:${PORTS.fleetMetrics}/metrics`));
}

/** The value of the one sample matching name and labels (a subset), or null. */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string>): number | null {
  const hit = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hit ? hit.value : null;
}

export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export function promQuery(state: LabState, query: string, scraper = FIRST): PromSeries[] {
  const body = JSON.parse(fetchIn(scraperNs(state, scraper), `http://127.0.0.1:${PORTS.prometheus}/api/v1/query?query=${encodeURIComponent(query)}`)) as { status: string; data: { result: PromSeries[] } };
  if (body.status !== "success") throw new Error(`Prometheus query ${query} failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

export interface PromTarget {
  labels: Record<string, string>;
  scrapePool: string;
  health: "up" | "down" | "unknown";
  lastError: string;
}

export function promTargets(state: LabState, job: string): PromTarget[] {
  const body = JSON.parse(fetchIn(scraperNs(state), `http://127.0.0.1:${PORTS.prometheus}/api/v1/targets?state=active`)) as { data: { activeTargets: PromTarget[] } };
  return body.data.activeTargets.filter((t) => t.scrapePool === job);
}

export interface AmAlert {
  labels: Record<string, string>;
  status: { state: string };
  endsAt: string;
}

/** Alertmanager's active (not resolved) alerts. */
export function activeAlerts(state: LabState, scraper = FIRST): AmAlert[] {
  return JSON.parse(fetchIn(scraperNs(state, scraper), `http://127.0.0.1:${PORTS.alertmanager}/api/v2/alerts?active=true`)) as AmAlert[];
}

export function hasAlert(state: LabState, labels: Record<string, string>, scraper = FIRST): boolean {
  return activeAlerts(state, scraper).some((a) => Object.entries(labels).every(([k, v]) => a.labels[k] === v));
}

export function fileSdText(state: LabState, scraper = FIRST): string {
  const file = labPaths(state.dir).fileSdOf(scraper);
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

export interface ReceiverEvent {
  node: string;
  event: string;
  sequence: number | null;
  outcome: string;
  summary: string;
  msg: string;
}

/** The notifications the receiver applied, from its JSON log (one line per notification). */
export function receiverEvents(state: LabState, scraper = FIRST): ReceiverEvent[] {
  const log = join(labPaths(state.dir).node(scraper), "edge-agent-receive.log");
  if (!existsSync(log)) return [];
  const events: ReceiverEvent[] = [];
  for (const line of readFileSync(log, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const j = JSON.parse(line) as Partial<ReceiverEvent>;
      if (typeof j.node === "string" && typeof j.event === "string") {
        events.push({ node: j.node, event: j.event, sequence: typeof j.sequence === "number" ? j.sequence : null, outcome: String(j.outcome ?? ""), summary: String(j.summary ?? ""), msg: String(j.msg ?? "") });
      }
    } catch {
      /* a partial last line */
    }
  }
  return events;
}

/** The sequence numbers of `node` a receiver never saw, between the first and the last it did. */
export function missingSequences(events: ReceiverEvent[], node: string): number[] {
  const seen = new Set(events.filter((e) => e.node === node && e.sequence !== null).map((e) => e.sequence!));
  if (seen.size === 0) return [];
  const [first, last] = [Math.min(...seen), Math.max(...seen)];
  const missing = [];
  for (let s = first; s <= last; s++) if (!seen.has(s)) missing.push(s);
  return missing;
}

/** The highest sequence number of `node` a receiver saw, or -1. */
export function lastSequence(events: ReceiverEvent[], node: string): number {
  return Math.max(-1, ...events.filter((e) => e.node === node && e.sequence !== null).map((e) => e.sequence!));
}

/** A table of its own that drops new inbound UDP to tailscaled's port, as a careless admin would add. */
export function dropTailscaledRule(): string {
  return [
    "table inet lab_break {",
    "  chain input {",
    "    type filter hook input priority -10; policy accept;",
    `    udp dport ${TAILSCALED_PORT} drop`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** snmpget from the scraper's namespace to a node's Tailscale IP (IPv6), values only. */
export function snmpGetFromScraper(state: LabState, node: string, oids: string[]): string[] {
  const target = `udp6:[${nodeByName(node).tailnet!.v6}]:${PORTS.snmp}`;
  const out = inNs(scraperNs(state), "env", [...envArgs(), "snmpget", "-v2c", "-c", COMMUNITY, "-r1", "-t2", "-Oqv", "-Oe", target, ...oids]);
  return out.trimEnd().split("\n").map((v) => v.replace(/^"(.*)"$/, "$1"));
}

/** snmpwalk of a subtree from the scraper to a node's Tailscale IP (IPv4), numeric OIDs. */
export function snmpWalkFromScraper(state: LabState, node: string, oid: string): Map<string, string> {
  const target = `udp:${nodeByName(node).tailnet!.v4}:${PORTS.snmp}`;
  const out = inNs(scraperNs(state), "env", [...envArgs(), "snmpwalk", "-v2c", "-c", COMMUNITY, "-r1", "-t2", "-On", "-Oq", "-Oe", target, oid]);
  const values = new Map<string, string>();
  for (const line of out.split("\n")) {
    const m = /^\.?(\S+)\s+(.*)$/.exec(line.trim());
    if (m) values.set(m[1], m[2].replace(/^"(.*)"$/, "$1"));
  }
  return values;
}

function envArgs(): string[] {
  const env = netSnmpEnv();
  return [`MIBS=${env.MIBS}`, `MIBDIRS=${env.MIBDIRS}`];
}

function agentLog(state: LabState, node: string): string {
  const file = join(labPaths(state.dir).node(node), "edge-agent.log");
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

export function agentLogLength(state: LabState, node: string): number {
  return agentLog(state, node).length;
}

/** Whether the node's agent logged a state change of this kind after `offset` (its JSON log). */
export function agentLogged(state: LabState, node: string, event: string, offset = 0): boolean {
  return agentLog(state, node)
    .slice(offset)
    .split("\n")
    .some((line) => {
      try {
        return line.startsWith("{") && (JSON.parse(line) as { event?: string }).event === event;
      } catch {
        return false;
      }
    });
}

/** Alertmanager's status of one scraper: its cluster's peers and whether it has settled. */
export function clusterStatus(state: LabState, scraper = FIRST): { status: string; peers: number } {
  const body = JSON.parse(fetchIn(scraperNs(state, scraper), `http://127.0.0.1:${PORTS.alertmanager}/api/v2/status`)) as { cluster: { status: string; peers?: unknown[] } };
  return { status: body.cluster.status, peers: body.cluster.peers?.length ?? 0 };
}

export interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
}

export interface WebhookNotification {
  receivedAt: string;
  /** The sending Alertmanager's address (its scraper's uplink). */
  from: string;
  alerts: WebhookAlert[];
}

/** The notifications the pair lab's webhook sink got, in order. */
export function webhookNotifications(state: LabState): WebhookNotification[] {
  const file = labPaths(state.dir).webhook;
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => {
      const j = JSON.parse(line) as { receivedAt: string; from: string; message: { alerts: WebhookAlert[] } };
      return { receivedAt: j.receivedAt, from: j.from, alerts: j.message.alerts };
    });
}
