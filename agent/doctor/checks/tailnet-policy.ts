// The `tailnet-policy` check: may the scraper open tcp/9100 and udp/161 here, as this node's
// tailscaled packet filter decides (the tailnet.policy part)? A drop names the entry to add to the
// tailnet policy, in its own syntax, with this node's and the scraper's tags; shields-up and an
// unreadable filter name their own fix.
import { operatorCommand } from "../../policy/filter-source";
import { flowById, flowLabel, type Flow, type FlowId } from "../../policy/flows";
import { policyEntryFor } from "../../policy/policy-fix";
import { currentUser } from "../../probes/packet-filter-source";
import { SELF } from "../../self-command";
import { runningTailnet, type NodeState } from "../../state/node-state";
import type { NodeFlowVerdict, TailnetPolicy, TailnetPolicyFailure } from "../../state/tailnet-policy";
import { nodeStateTimeout, type Check } from "../check";
import { fail, ok, skip, warn, type Finding } from "../finding";
import { isSelf } from "./tailnet";

/** Who the policy entries are about, and who reads the filter. */
export interface PolicySubjects {
  /** This node's tag the entry's destination names (tag:monitor). */
  nodeTag: string;
  /** The scraper's tag the entry's source names (tag:scraper). */
  scraperTag: string;
  /** The user this check ran as: the one tailscaled refused, if it did. */
  user: string;
  /** This host is the scraper itself: there is no flow to itself to judge. */
  isScraper: boolean;
}

/** The entries that admit the flows, as `acls` (the seed policy's syntax) and as `grants`. */
function entriesFor(flows: FlowId[], who: PolicySubjects): string {
  const tag = (side: Flow["from"]) => (side === "scraper" ? who.scraperTag : who.nodeTag);
  const entry = (style: "acls" | "grants") => flows.map((id) => flowById(id)).map((f) => policyEntryFor(f, tag(f.from), tag(f.to), style)).join(", ");
  return `add to the tailnet policy's "acls": ${entry("acls")} (in "grants": ${entry("grants")})`;
}

const CHECK_AGAIN = `${SELF} doctor --check tailnet-policy`;

/** What to do about each way the probe can fail; the type makes a new code need one. */
const POLICY_FIXES: Record<TailnetPolicyFailure, (who: PolicySubjects) => string> = {
  "tailnet-unavailable": () => `${SELF} doctor --check tailscaled (the packet filter is read from tailscaled)`,
  "no-socket": () => "set tailscale.socket to tailscaled's LocalAPI socket (/run/tailscale/tailscaled.sock unless tailscaled runs with --socket): the tailscale CLI does not give the packet filter",
  // A control plane hides a peer the policy lets talk to this node in neither direction.
  "no-scraper": (who) => `check scraper: against \`tailscale status\`; if the scraper is not listed there, the tailnet policy lets it and this node talk in no direction: ${entriesFor(["scrape-node-exporter", "poll-snmpd", "notify-scraper"], who)}`,
  localapi: () => `tailscale status (does tailscaled answer?), then: ${CHECK_AGAIN}`,
  malformed: () => "tailscale version (edge-agent reads the netmap and filter rules of Tailscale 1.60 or later: upgrade tailscale)",
  "no-filter-source": () => "run a tailscaled build with its debug endpoints (not built with ts_omit_debug): this one sends no PacketFilterRules on its IPN bus",
  timeout: () => `tailscale status (is tailscaled hung?); if it answers slowly, raise probes.timeout, then: ${CHECK_AGAIN}`,
  "probe-error": () => `${SELF} status --json (its tailnet.policy), then: ${CHECK_AGAIN}`,
};

/** Why a verdict is unknown, by the keyword the filter evaluator puts in decidedBy. */
function unknownFix(f: NodeFlowVerdict, who: PolicySubjects): string {
  switch (f.decidedBy) {
    case "localapi-permission":
      return `${operatorCommand(who.user)} (tailscaled gives its packet filter only to root and its operator; see README, "LocalAPI permission")`;
    case "no-netmap":
      return "tailscale status (tailscaled has no network map: log in with sudo tailscale up)";
    case "no-shared-family":
      return "tailscale status: the scraper and this node have no Tailscale address of one family";
    case "filter-refused":
      return "tailscale version (this tailscaled refuses the filter control sent: upgrade tailscale)";
    default:
      // A rule that admits only peers holding a node capability: admit the scraper outright.
      return entriesFor([f.id], who);
  }
}

/** What a dropped flow needs: shields down, the scraper un-jailed, or a policy entry. */
function dropFix(dropped: NodeFlowVerdict[], who: PolicySubjects): string {
  if (dropped.some((f) => f.decidedBy === "shields-up")) return "sudo tailscale set --shields-up=false";
  if (dropped.some((f) => f.decidedBy === "peer-jailed")) return "in the admin console, find why control marks the scraper as jailed (a jailed peer may open no connection to any node); tailscale status --json lists it";
  return entriesFor(dropped.map((f) => f.id), who);
}

/** "rule 0" for "rule 0: {...}", so a finding stays one line. */
function ruleNames(decidedBy: string): string {
  return decidedBy.match(/rule \d+/g)?.join(", ") ?? decidedBy;
}

const flowWords = (f: NodeFlowVerdict) => `${f.id} (${flowLabel(flowById(f.id))})`;

export function judgeTailnetPolicy(policy: TailnetPolicy, who: PolicySubjects): Finding {
  if (policy.state === "unavailable") {
    if (policy.code === "tailnet-unavailable") return skip("tailscaled is not Running (see the tailscaled check)", POLICY_FIXES[policy.code](who));
    if (policy.code === "no-scraper" && who.isScraper) return skip("this host is the scraper: no flow from it to itself to judge", `on each node: ${CHECK_AGAIN}`);
    return fail(`no verdict on the scraper's flows: ${policy.error}`, POLICY_FIXES[policy.code](who));
  }
  const dropped = policy.flows.filter((f) => f.verdict === "drop");
  if (dropped.length) {
    // Flows dropped for one reason (shields-up drops both) are named together, the reason once.
    const groups = new Map<string, NodeFlowVerdict[]>();
    for (const f of dropped) {
      const why = `${f.decidedBy}${f.reason ? ` (${f.reason})` : ""}`;
      groups.set(why, [...(groups.get(why) ?? []), f]);
    }
    const why = [...groups].map(([reason, flows]) => `${flows.map(flowWords).join(" and ")}: ${reason}`).join("; ");
    return fail(`this node's tailscaled drops the scraper's ${why}`, dropFix(dropped, who));
  }
  const unknown = policy.flows.find((f) => f.verdict === "unknown");
  if (unknown) return warn(`cannot tell whether the scraper may open ${flowWords(unknown)} here: ${unknown.reason ?? unknown.decidedBy}`, unknownFix(unknown, who));
  return ok(`this node's tailscaled admits the scraper's ${policy.flows.map((f) => `${flowWords(f)} by ${ruleNames(f.decidedBy)}`).join(", ")}`);
}

/** The tags the fix names: this node's expected tag (or its own), the scraper's first tag. */
export function policySubjects(state: NodeState, expectedTags: string[], scraper: string): PolicySubjects {
  const t = runningTailnet(state.tailnet);
  const nodeTag = expectedTags.find((tag) => t?.tags.includes(tag)) ?? expectedTags[0] ?? t?.tags[0] ?? "tag:monitor";
  return { nodeTag, scraperTag: t?.scraper.tags[0] ?? "tag:scraper", user: currentUser(), isScraper: t ? isSelf(t, scraper) : false };
}

export const tailnetPolicyCheck: Check = {
  id: "tailnet-policy",
  group: "tailnet",
  scope: "any",
  summary: "this node's tailscaled packet filter lets the scraper open tcp/9100 and udp/161",
  timeoutMs: nodeStateTimeout,
  run: async (ctx) => {
    const state = await ctx.nodeState();
    return judgeTailnetPolicy(state.tailnet.policy, policySubjects(state, ctx.config.tailscale.expectedTags, ctx.config.scraper));
  },
};
