// On the scraper: may each fleet node's Tailscale addresses reach udp/162 here (flow
// notify-scraper)? A trap or inform opens a new flow from the node, so the receiving side, this
// scraper, decides it with its own packet filter.
//
// The scraper's filter lists every monitored node's addresses (control resolves the tag), so
// asking decideInbound node by node costs fleet x filter size, and each accept would carry its
// own copy of a rule's text (the whole address list). So the common answer, accept, is found
// through an index of the rules that can admit udp/162 here (their sources merged and sorted,
// searched by bisection) and names the rule with one shared text; every other node is decided by
// decideInbound itself, which gives the same answer and says why.
import { decisionWithoutRules, type FilterSource } from "./filter-source";
import { decideInbound, type FlowDecision } from "./filter-verdict";
import { flowById } from "./flows";
import { compileFilter, parseAddress, type AddressRange, type Compiled, type FilterRule, type ParsedAddress } from "./packet-filter";

export interface FleetNode {
  /** How the receiver names the node (its host name). */
  name: string;
  ips: string[];
}

export interface NotifyVerdict extends FlowDecision {
  id: "notify-scraper";
  node: string;
}

type Family = ParsedAddress["family"];

/** One rule that admits udp/162 to the scraper's address of a family: its sources, merged and sorted. */
interface Admitting {
  index: number;
  srcs: AddressRange[];
}

function firstOfEach(ips: string[]): Map<Family, bigint> {
  const out = new Map<Family, bigint>();
  for (const raw of ips) {
    try {
      const a = parseAddress(raw.replace(/\/\d+$/, ""));
      if (!out.has(a.family)) out.set(a.family, a.n);
    } catch {
      // Not an address: decideInbound skips it too.
    }
  }
  return out;
}

function merged(ranges: AddressRange[], family: Family): AddressRange[] {
  const sorted = ranges.filter((r) => r.family === family).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: AddressRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.first <= last.last + 1n) {
      if (r.last > last.last) last.last = r.last;
    } else out.push({ ...r });
  }
  return out;
}

function holds(ranges: AddressRange[], n: bigint): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (n < ranges[mid].first) hi = mid - 1;
    else if (n > ranges[mid].last) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Per family of the scraper: the rules that admit udp/162 to its (first) address of that family, lowest index first. */
function admittingRules(compiled: Compiled, scraper: Map<Family, bigint>, proto: number, port: number): Map<Family, Admitting[]> {
  const out = new Map<Family, Admitting[]>();
  for (const [family, dst] of scraper) {
    const rules = compiled.rules.filter((r) => r.protos.includes(proto) && r.dsts.some((d) => d.range.family === family && d.range.first <= dst && dst <= d.range.last && d.first <= port && port <= d.last));
    out.set(family, rules.map((r) => ({ index: r.index, srcs: merged(r.srcs, family) })));
  }
  return out;
}

export type NotifyJudge = (nodes: FleetNode[]) => NotifyVerdict[];

/**
 * Pure: a judge of the scraper's filter and its own Tailscale addresses, which answers one
 * verdict per node in the order given. Compiling and indexing a large filter takes a while, so a
 * caller that asks about nodes as they come keeps one judge per filter.
 */
export function notifyJudge(source: FilterSource, scraperIps: string[]): NotifyJudge {
  const flow = flowById("notify-scraper");
  if (source.kind !== "rules") return (nodes) => nodes.map((node) => ({ id: "notify-scraper", node: node.name, ...decisionWithoutRules(source, node.ips, node.name, "the scraper")! }));
  const rules: FilterRule[] = source.rules;
  const compiled = compileFilter(rules);
  const scraper = firstOfEach(scraperIps);
  const index = compiled.refused ? new Map<Family, Admitting[]>() : admittingRules(compiled, scraper, flow.proto, flow.port);
  const texts = new Map<number, string>();
  const ruleText = (i: number) => texts.get(i) ?? texts.set(i, `rule ${i}: ${JSON.stringify(rules[i])}`).get(i)!;
  return (nodes) => nodes.map((node): NotifyVerdict => {
    const fixed = decisionWithoutRules(source, node.ips, node.name, "the scraper");
    if (fixed) return { id: "notify-scraper", node: node.name, ...fixed };
    const own = firstOfEach(node.ips);
    const families = (["ipv4", "ipv6"] as const).filter((f) => own.has(f) && scraper.has(f));
    const admitted = families.map((f) => (index.get(f) ?? []).find((r) => holds(r.srcs, own.get(f)!))?.index);
    if (families.length && admitted.every((i) => i !== undefined)) return { id: "notify-scraper", node: node.name, verdict: "accept", decidedBy: [...new Set(admitted as number[])].map(ruleText).join("; ") };
    return { id: "notify-scraper", node: node.name, ...decideInbound(rules, { proto: flow.proto, port: flow.port }, node.ips, scraperIps, compiled) };
  });
}

/** Pure: one verdict per node, in the order given, from the scraper's filter and its own Tailscale addresses. */
export function notifyVerdicts(source: FilterSource, scraperIps: string[], nodes: FleetNode[]): NotifyVerdict[] {
  return notifyJudge(source, scraperIps)(nodes);
}
