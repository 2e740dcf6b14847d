// What changed between two NodeStates, as events, and what is wrong in the first one. Pure: the
// daemon, `status` and the tests all see the same changes for the same two snapshots.
import { runningTailnet, type NodeState } from "./state/node-state";

export type EventKind =
  | "agentStarted"
  | "heartbeat"
  | "addressChanged"
  | "tailnetChanged"
  | "pathChanged"
  | "serviceDown"
  | "serviceUp"
  | "firewallChanged"
  | "test";

export type ServiceName = "nodeExporter" | "snmpd";

export interface StateEvent {
  kind: EventKind;
  /** Which service, for serviceDown/serviceUp. */
  service?: ServiceName;
  /** One line a person can read in a log or a trap receiver. */
  summary: string;
}

/** The facts whose change is an addressChanged event: the primary /64 and the set of /64s. */
function addressKey(state: NodeState): string {
  if (state.ipv6.state === "unavailable") return "unavailable";
  return JSON.stringify([state.ipv6.primary, state.ipv6.prefixes.map((p) => `${p.interface} ${p.prefix} ${p.inAllocation}`).sort()]);
}

/** The probe's own error after a colon, for the state an event reports (not the one it left). */
function because(error: string, why: boolean): string {
  return why ? `: ${error}` : "";
}

function describeAddresses(state: NodeState, why = false): string {
  if (state.ipv6.state === "unavailable") return `IPv6 addresses unavailable${because(state.ipv6.error, why)}`;
  if (!state.ipv6.primary) return "no global IPv6 /64";
  return `primary /64 ${state.ipv6.primary}`;
}

function tailnetKey(state: NodeState): string {
  const t = runningTailnet(state.tailnet);
  if (!t) return "unavailable";
  return JSON.stringify([t.state, t.dnsName, [...t.ips].sort(), [...t.tags].sort()]);
}

function describeTailnet(state: NodeState, why = false): string {
  const t = runningTailnet(state.tailnet);
  if (!t) return `tailscaled unavailable${because((state.tailnet as { error: string }).error, why)}`;
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

function firewallKey(state: NodeState): string {
  const f = state.firewall;
  if (!f) return "absent";
  if (f.state === "unavailable") return "unavailable";
  return JSON.stringify([f.port, f.checks.map((c) => `${c.id}=${c.verdict}`).sort()]);
}

function describeFirewall(state: NodeState, why = false): string {
  const f = state.firewall;
  if (!f) return "firewall verdicts unavailable";
  if (f.state === "unavailable") return `firewall verdicts unavailable${because(f.error, why)}`;
  return `firewall on UDP ${f.port}: ${f.checks.map((c) => `${c.id} ${c.verdict}`).join(", ")}`;
}

const SERVICE_LABEL: Record<ServiceName, string> = { nodeExporter: "node-exporter", snmpd: "snmpd" };

function describeServiceDown(state: NodeState, service: ServiceName): string {
  return `${SERVICE_LABEL[service]} down: ${state.services[service].error ?? "no answer"}`;
}

/**
 * Events for the change from `prev` to `next`. With no previous snapshot (the agent just
 * started) the only event is agentStarted: a start is not a change.
 */
export function diff(prev: NodeState | null, next: NodeState): StateEvent[] {
  if (!prev) return [{ kind: "agentStarted", summary: `agent ${next.agent.version} started` }];
  const events: StateEvent[] = [];
  if (addressKey(prev) !== addressKey(next)) events.push({ kind: "addressChanged", summary: `${describeAddresses(next, true)} (was: ${describeAddresses(prev)})` });
  if (tailnetKey(prev) !== tailnetKey(next)) events.push({ kind: "tailnetChanged", summary: `${describeTailnet(next, true)} (was: ${describeTailnet(prev)})` });
  if (pathKey(prev) !== pathKey(next)) events.push({ kind: "pathChanged", summary: `${describePath(next)} (was: ${describePath(prev)})` });
  for (const service of ["nodeExporter", "snmpd"] as const) {
    const was = prev.services[service].up;
    const now = next.services[service].up;
    if (was && !now) events.push({ kind: "serviceDown", service, summary: describeServiceDown(next, service) });
    if (!was && now) events.push({ kind: "serviceUp", service, summary: `${SERVICE_LABEL[service]} up` });
  }
  if (firewallKey(prev) !== firewallKey(next)) events.push({ kind: "firewallChanged", summary: `${describeFirewall(next, true)} (was: ${describeFirewall(prev)})` });
  return events;
}

/**
 * What a first snapshot finds missing: each source that could not be read, a tailscaled that is
 * not Running, each service that is down, with the reason and worded as the change events word
 * it. A start is not a change, so these are not events; the daemon logs them, so that the journal
 * says from the start what is missing. Verdicts, tags and the path are the metrics' and doctor's.
 */
export function problemsAtStart(state: NodeState): string[] {
  const problems: string[] = [];
  if (state.host.state === "unavailable") problems.push(`host facts unavailable: ${state.host.error}`);
  if (state.ipv6.state === "unavailable") problems.push(describeAddresses(state, true));
  const tailnet = runningTailnet(state.tailnet);
  if (!tailnet) problems.push(describeTailnet(state, true));
  else if (tailnet.state !== "Running") problems.push(tailnet.scraper.error ?? `tailscaled is ${tailnet.state}, not Running`);
  for (const service of ["nodeExporter", "snmpd"] as const) {
    if (!state.services[service].up) problems.push(describeServiceDown(state, service));
  }
  if (state.firewall?.state === "unavailable") problems.push(describeFirewall(state, true));
  return problems;
}
