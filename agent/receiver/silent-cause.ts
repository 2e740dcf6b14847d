// Why a tagged peer's agent is silent, as far as the scraper can tell, and the fix: the scraper's
// own packet filter drops the peer's udp/162 (the ACL entry to add), the peer is offline in the
// tailnet, or, with the flow admitted, no agent runs there or it cannot reach the scraper. Pure.
import type { NotifyVerdict } from "../policy/notify-flows";
import { flowById } from "../policy/flows";
import { policyEntryFor } from "../policy/policy-fix";
import type { Alert } from "./alerts";
import type { TaggedPeer } from "./tagged-peers";

export type SilentCause = "acl-drops-notify" | "scraper-refuses" | "offline" | "verdict-unknown" | "no-agent-or-unreachable";

export interface RoleTags {
  node: string;
  scraper: string;
}

export interface CauseFinding {
  cause: SilentCause;
  /** What is likely wrong, a sentence fragment after "likely cause: ". */
  text: string;
  fix: string;
}

/** The scraper's role tag: its first tag other than the node tag, else the design's tag:scraper. */
export function scraperTag(selfTags: string[], nodeTag: string): string {
  return selfTags.find((t) => t !== nodeTag) ?? "tag:scraper";
}

/** The tailnet policy entry that admits notify-scraper, as `acls` syntax. */
export function notifyEntry(tags: RoleTags): string {
  return policyEntryFor(flowById("notify-scraper"), tags.node, tags.scraper, "acls");
}

/** A default-deny drop is the policy's doing; shields-up or a jailed peer are not. */
export function dropIsPolicy(verdict: NotifyVerdict): boolean {
  return verdict.decidedBy.startsWith("default deny");
}

export function silentCause(peer: TaggedPeer, verdict: NotifyVerdict | null, tags: RoleTags): CauseFinding {
  const node = peer.node;
  if (verdict?.verdict === "drop" && dropIsPolicy(verdict))
    return {
      cause: "acl-drops-notify",
      text: `the scraper's tailnet policy drops udp/162 from ${node} (${verdict.decidedBy})`,
      fix: `add to the tailnet policy's acls: ${notifyEntry(tags)} (check the file with \`edge-agent policy check FILE\`)`,
    };
  if (verdict?.verdict === "drop") return { cause: "scraper-refuses", text: `tailscaled on the scraper refuses udp/162 from ${node} (${verdict.decidedBy})`, fix: verdict.reason ?? "see `edge-agent doctor --check receiver-notify-policy` on the scraper" };
  if (!peer.online) return { cause: "offline", text: `${node} is offline in the tailnet (its tailscaled is not connected to control)`, fix: `start the host or its tailscaled (\`tailscale status\` on ${node})` };
  const agent = `on ${node}: \`systemctl status edge-agent\` (install and enable it if absent), then \`edge-agent trap --test\``;
  if (!verdict || verdict.verdict === "unknown") {
    const why = verdict ? `${verdict.reason ?? verdict.decidedBy}` : "its packet filter could not be read";
    return { cause: "verdict-unknown", text: `no edge-agent on ${node}, or it cannot reach the scraper; whether the scraper's filter admits udp/162 is unknown (${why})`, fix: agent };
  }
  return { cause: "no-agent-or-unreachable", text: `no edge-agent runs on ${node}, or its notifications do not reach the scraper (the scraper's filter admits udp/162 from it)`, fix: `${agent}; check notifications.target there` };
}

/**
 * A stale node's alert, told when the scraper's own filter is why: a policy edit that drops
 * udp/162 turns every node stale, and that is the one cause the scraper can see for itself.
 */
export function staleCause(alert: Alert, verdict: NotifyVerdict | null, tags: RoleTags): Alert {
  if (verdict?.verdict !== "drop") return alert;
  const policy = dropIsPolicy(verdict);
  const fix = policy ? `add to the tailnet policy's acls: ${notifyEntry(tags)}` : (verdict.reason ?? "see `edge-agent doctor --check receiver-notify-policy` on the scraper");
  return {
    labels: alert.labels,
    annotations: {
      summary: `${alert.annotations.summary}; likely cause: ${policy ? "the scraper's tailnet policy drops" : "tailscaled on the scraper refuses"} its udp/162 (${verdict.decidedBy})`,
      description: `The scraper's packet filter drops the node's notifications. Fix: ${fix}.`,
    },
  };
}

/** The receiver's EdgeNodeSilent alert for a tagged peer past its stale window. */
export function silentAlert(peer: TaggedPeer, verdict: NotifyVerdict | null, tags: RoleTags, silentForMs: number): Alert {
  const found = silentCause(peer, verdict, tags);
  const minutes = Math.round((silentForMs / 60_000) * 10) / 10;
  return {
    labels: { alertname: "EdgeNodeSilent", node: peer.node, severity: "warning" },
    annotations: {
      summary: `${peer.node}: carries ${tags.node} but no notification from its edge-agent arrived in ${minutes} minutes; likely cause: ${found.text}`,
      description: `The receiver lists ${peer.node} as a target from the scraper's tailnet peers, but has never heard from its agent. Fix: ${found.fix}.`,
    },
  };
}
