// Offline verdicts: does a policy file admit each monitoring flow between a device tagged as the
// scraper and a device tagged as a monitored node? Entries only allow (deny by default, and no
// entry narrows another), so the first entry in the file that admits a flow decides it; with
// none, the flow is dropped and the entries that nearly admit it are named.
import { FLOWS, flowLabel, type Flow, type FlowId } from "./flows";
import type { AclEntry, GrantEntry, Policy } from "./policy-file";
import { policyEntryFor } from "./policy-fix";
import { admits, ALL_PORTS, protoName, type PortRange } from "./proto-ports";
import { bestMatch, matchSelector, type Match } from "./selector-match";

export interface RoleTags {
  scraper: string;
  node: string;
}

export interface PolicyFlowVerdict {
  id: FlowId;
  /** e.g. "tcp/9100". */
  flow: string;
  src: string;
  dst: string;
  verdict: "accept" | "drop" | "unknown";
  /** The entry that decided ("acls[0] line 4: {...}"), or the default deny. */
  decidedBy: string;
  /** The deciding entry, when one did. */
  entry?: { section: "acls" | "grants"; index: number; line: number };
  /** Why the verdict is unknown. */
  reason?: string;
  /** Entries that admit all but one part of the flow (its source, destination or port). */
  nearMisses: string[];
  /** The entry to add, in the syntax the file already uses, when the flow is not accepted. */
  fix?: string;
}

type Judged = { match: Match; part: "src" | "dst" | "port" | null };

const RANK = { no: 0, maybe: 1, yes: 2 } as const;

function weakest(parts: [Judged["part"], Match][]): Judged {
  let out: Judged = { match: { result: "yes" }, part: null };
  for (const [part, m] of parts) if (RANK[m.result] < RANK[out.match.result]) out = { match: m, part };
  return out;
}

function withPosture(m: Match, posture: string[]): Match {
  if (m.result !== "yes" || posture.length === 0) return m;
  return { result: "maybe", why: `the source meets the posture ${posture.join(", ")}` };
}

/** How well one entry admits the flow, and which part fails when exactly one does. */
function judgeAcl(a: AclEntry, flow: Flow, srcTag: string, dstTag: string, policy: Policy): { overall: Match; missing: Judged["part"] } {
  const src = bestMatch(a.src.map((s) => matchSelector(s.value, srcTag, policy)));
  const protoOk = admits({ protos: a.proto, ports: [ALL_PORTS] }, flow.proto, flow.port);
  const openPort = protoOk ? a.dst.filter((d) => admits({ protos: a.proto, ports: d.ports }, flow.proto, flow.port)) : [];
  // The destination counts only together with a port it opens; when no such pair exists, the
  // part that fails is the one a person would fix (the port when the target is right).
  const onPort = bestMatch(openPort.map((d) => matchSelector(d.target, dstTag, policy)));
  const anyDst = bestMatch(a.dst.map((d) => matchSelector(d.target, dstTag, policy)));
  const yes: Match = { result: "yes" };
  const no: Match = { result: "no" };
  if (onPort.result !== "no") return summarise([["src", src], ["dst", onPort]], a.posture);
  if (anyDst.result !== "no") return summarise([["src", src], ["dst", anyDst], ["port", no]], a.posture);
  return summarise([["src", src], ["dst", no], ["port", openPort.length ? yes : no]], a.posture);
}

function judgeGrant(g: GrantEntry, flow: Flow, srcTag: string, dstTag: string, policy: Policy): { overall: Match; missing: Judged["part"] } {
  const src = bestMatch(g.src.map((s) => matchSelector(s.value, srcTag, policy)));
  const dst = bestMatch(g.dst.map((d) => matchSelector(d.value, dstTag, policy)));
  const portOk = g.ip.some((pp) => admits(pp, flow.proto, flow.port));
  const routed: Match = g.via.length ? { result: "maybe", why: `the traffic is routed via ${g.via.join(", ")}` } : { result: "yes" };
  return summarise([["src", src], ["dst", dst], ["port", { result: portOk ? "yes" : "no" }], [null, routed]], g.posture);
}

function summarise(parts: [Judged["part"], Match][], posture: string[]): { overall: Match; missing: Judged["part"] } {
  const failing = parts.filter(([, m]) => m.result === "no");
  const overall = withPosture(weakest(parts).match, posture);
  return { overall, missing: failing.length === 1 ? failing[0][0] : null };
}

function portsText(ports: PortRange[]): string {
  return ports.map((r) => (r.first === 0 && r.last === 65535 ? "*" : r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`)).join(",");
}

function protosText(protos: number[] | null): string {
  return protos ? protos.map(protoName).join("+") : "tcp+udp+icmp";
}

/** What an entry opens, as a person compares it with the flow ("proto udp to tag:monitor:161"). */
function opens(e: AclEntry | GrantEntry): string {
  if (e.section === "acls") return `${e.proto ? `proto ${protosText(e.proto)}` : "tcp+udp+icmp"} to ${e.dst.map((d) => d.value).join(", ")}`;
  return e.ip.length ? `ip ${e.ip.map((pp) => `${protosText(pp.protos)}:${portsText(pp.ports)}`).join(" ")}` : "no ip (app only)";
}

/** A port near miss worth showing: an app-only grant, or an entry with the flow's protocol or port. */
function sameProtoOrPort(e: AclEntry | GrantEntry, flow: Flow): boolean {
  if (e.section === "grants" && e.ip.length === 0) return true;
  const specs = e.section === "grants" ? e.ip : e.dst.map((d) => ({ protos: e.proto, ports: d.ports }));
  return specs.some((pp) => admits({ protos: pp.protos, ports: [ALL_PORTS] }, flow.proto, flow.port) || pp.ports.some((r) => r.first <= flow.port && flow.port <= r.last));
}

function entryName(e: AclEntry | GrantEntry): string {
  return `${e.section}[${e.index}] line ${e.line}`;
}

export function evaluateFlow(policy: Policy, flow: Flow, tags: RoleTags): PolicyFlowVerdict {
  const srcTag = tags[flow.from];
  const dstTag = tags[flow.to];
  const entries = [...policy.acls, ...policy.grants].sort((a, b) => a.line - b.line || a.column - b.column);
  const base = { id: flow.id, flow: flowLabel(flow), src: srcTag, dst: dstTag };
  const nearMisses: string[] = [];
  let maybe: { entry: AclEntry | GrantEntry; why: string } | null = null;
  for (const e of entries) {
    const { overall, missing } = e.section === "acls" ? judgeAcl(e, flow, srcTag, dstTag, policy) : judgeGrant(e, flow, srcTag, dstTag, policy);
    if (overall.result === "yes") return { ...base, verdict: "accept", decidedBy: `${entryName(e)}: ${e.text}`, entry: { section: e.section, index: e.index, line: e.line }, nearMisses: [] };
    if (overall.result === "maybe") maybe ??= { entry: e, why: overall.why };
    if (missing === "port" && sameProtoOrPort(e, flow)) nearMisses.push(`${entryName(e)} lets ${srcTag} reach ${dstTag} but not ${flowLabel(flow)} (${opens(e)})`);
    if (missing === "src") nearMisses.push(`${entryName(e)} admits ${flowLabel(flow)} to ${dstTag}, but not from ${srcTag}`);
    if (missing === "dst") nearMisses.push(`${entryName(e)} admits ${flowLabel(flow)} from ${srcTag}, but not to ${dstTag}`);
  }
  const fix = policyEntryFor(flow, srcTag, dstTag, policy.has.acls || !policy.has.grants ? "acls" : "grants");
  if (maybe) {
    const e = maybe.entry;
    return { ...base, verdict: "unknown", decidedBy: `${entryName(e)}: ${e.text}`, entry: { section: e.section, index: e.index, line: e.line }, reason: `${entryName(e)} admits ${flowLabel(flow)} only if ${maybe.why}`, nearMisses, fix };
  }
  return { ...base, verdict: "drop", decidedBy: `default deny: no acls or grants entry admits ${flowLabel(flow)} from ${srcTag} to ${dstTag}`, nearMisses, fix };
}

export function evaluatePolicy(policy: Policy, tags: RoleTags): PolicyFlowVerdict[] {
  return FLOWS.map((flow) => evaluateFlow(policy, flow, tags));
}
