// Live verdicts from the packet filter tailscaled enforces: would a new flow from a peer's
// Tailscale addresses to this node's (tcp SYN or first udp datagram, one port) be let in? As in
// tailscaled's RunIn, rules only allow and order does not matter: the lowest-numbered rule that
// matches is named. Each address family both sides have is asked; all must pass.
import { compileFilter, parseAddress, type Compiled, type CompiledRule, type FilterRule } from "./packet-filter";

export type FilterVerdict = "accept" | "drop" | "unknown";

export interface FlowDecision {
  verdict: FilterVerdict;
  /** "rule 2: {...}" (index in the filter, and the rule as received), "default deny", "shields-up", ... */
  decidedBy: string;
  reason?: string;
}

export interface InboundFlow {
  proto: number;
  port: number;
}

interface Address {
  text: string;
  family: "ipv4" | "ipv6";
  n: bigint;
}

function addresses(list: string[]): Address[] {
  const out: Address[] = [];
  for (const raw of list) {
    try {
      const text = raw.replace(/\/\d+$/, "");
      out.push({ text, ...parseAddress(text) });
    } catch {
      // Not an address (a peer listing something else); it cannot carry a packet.
    }
  }
  return out;
}

const inRange = (a: Address, r: { family: string; first: bigint; last: bigint }) => r.family === a.family && r.first <= a.n && a.n <= r.last;

function matches(rule: CompiledRule, flow: InboundFlow, src: Address, dst: Address): "yes" | "cap" | "no" {
  if (!rule.protos.includes(flow.proto)) return "no";
  if (!rule.dsts.some((d) => inRange(dst, d.range) && d.first <= flow.port && flow.port <= d.last)) return "no";
  if (rule.srcs.some((r) => inRange(src, r))) return "yes";
  return rule.srcCaps.length ? "cap" : "no";
}

function ruleText(rules: FilterRule[], index: number): string {
  return `rule ${index}: ${JSON.stringify(rules[index])}`;
}

const protoName = (p: number) => (p === 6 ? "tcp" : p === 17 ? "udp" : `proto ${p}`);

/** What nearly admits the flow: a rule for this source and destination on other ports or protocols. */
function nearMiss(compiled: CompiledRule[], flow: InboundFlow, src: Address, dst: Address): string | null {
  for (const rule of compiled) {
    if (!rule.srcs.some((r) => inRange(src, r))) continue;
    const dsts = rule.dsts.filter((d) => inRange(dst, d.range));
    if (!dsts.length) continue;
    const ports = dsts.map((d) => (d.first === d.last ? `${d.first}` : `${d.first}-${d.last}`)).join(",");
    return `rule ${rule.index} admits ${src.text} to ${dst.text} only for ${rule.protos.map(protoName).join("+")} on ports ${ports}`;
  }
  return null;
}

/**
 * Pure: the verdict of tailscaled's filter `rules` on a new flow from any of `srcIps` to any of
 * `dstIps` (this node's own addresses), one address family at a time. `compiled` is
 * compileFilter(rules), when the caller asks several questions of one filter.
 */
export function decideInbound(rules: FilterRule[], flow: InboundFlow, srcIps: string[], dstIps: string[], compiled: Compiled = compileFilter(rules)): FlowDecision {
  if (compiled.refused) return { verdict: "unknown", decidedBy: "filter-refused", reason: compiled.refused };
  const srcs = addresses(srcIps);
  const dsts = addresses(dstIps);
  const label = `${protoName(flow.proto)}/${flow.port}`;
  const families = (["ipv4", "ipv6"] as const).filter((f) => srcs.some((s) => s.family === f) && dsts.some((d) => d.family === f));
  if (!families.length) return { verdict: "unknown", decidedBy: "no-shared-family", reason: `the source (${srcIps.join(", ") || "no address"}) and this node (${dstIps.join(", ") || "no address"}) share no address family` };
  const outcomes = families.map((family) => {
    const src = srcs.find((s) => s.family === family)!;
    const dst = dsts.find((d) => d.family === family)!;
    const judged = compiled.rules.map((r) => ({ r, m: matches(r, flow, src, dst) }));
    return { family, src, dst, yes: judged.find((o) => o.m === "yes")?.r, cap: judged.find((o) => o.m === "cap")?.r };
  });
  const accepted = outcomes.filter((o) => o.yes);
  const refused = outcomes.find((o) => !o.yes && !o.cap);
  if (refused) {
    const { src, dst, family } = refused;
    const why = [
      nearMiss(compiled.rules, flow, src, dst),
      accepted.length ? `${accepted.map((a) => a.family).join(", ")} is admitted (rule ${accepted[0].yes!.index}), ${family} is not` : null,
      compiled.skipped ? `tailscaled skipped an entry: ${compiled.skipped}` : null,
    ].filter(Boolean);
    return { verdict: "drop", decidedBy: `default deny: no rule of ${rules.length} admits ${label} from ${src.text} to ${dst.text}`, ...(why.length ? { reason: why.join("; ") } : {}) };
  }
  const cap = outcomes.find((o) => !o.yes);
  if (cap) return { verdict: "unknown", decidedBy: ruleText(rules, cap.cap!.index), reason: `rule ${cap.cap!.index} admits ${label} only from peers holding ${cap.cap!.srcCaps.join(", ")}; whether ${cap.src.text} holds it is not visible here` };
  const indexes = [...new Set(accepted.map((a) => a.yes!.index))];
  return { verdict: "accept", decidedBy: indexes.map((i) => ruleText(rules, i)).join("; ") };
}
