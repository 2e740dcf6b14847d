// What tailscaled told about its packet filter, and the verdicts that need no rule: shields-up
// and a jailed peer refuse everything; without a netmap, or without the permission to read the
// filter, nothing can be said. Shared by both directions (node: 9100/161, scraper: 162).
import type { FlowDecision } from "./filter-verdict";
import type { FilterRule } from "./packet-filter";

export type FilterSource =
  /** `jailed`: the Tailscale addresses of peers control marks IsJailed. */
  | { kind: "rules"; rules: FilterRule[]; shieldsUp: boolean; jailed: string[] }
  | { kind: "no-netmap" }
  /** The filter is only readable with LocalAPI write access, which `user` lacks. */
  | { kind: "permission"; user: string };

/** The command that gives `user` LocalAPI write access (tailscaled has one operator). */
export function operatorCommand(user: string): string {
  return `sudo tailscale set --operator=${user}`;
}

/**
 * Pure: the decision when no rule is needed for it, else null. `peer` names the side that opens
 * the flow, as a person reads it ("the scraper", "node1"); `where` the side that decides.
 */
export function decisionWithoutRules(source: FilterSource, peerIps: string[], peer: string, where: string): FlowDecision | null {
  switch (source.kind) {
    case "no-netmap":
      return { verdict: "unknown", decidedBy: "no-netmap", reason: `tailscaled on ${where} has no network map (logged out or not connected to control): it lets nothing in until it has one; see \`tailscale status\`` };
    case "permission":
      return {
        verdict: "unknown", decidedBy: "localapi-permission",
        reason: `tailscaled on ${where} gives its packet filter only to root or its operator, and ${source.user} is neither: ${operatorCommand(source.user)} (replaces any other operator; it also lets ${source.user} change every tailscaled setting)`,
      };
    case "rules":
      if (source.shieldsUp) return { verdict: "drop", decidedBy: "shields-up", reason: `tailscaled on ${where} runs with shields up and refuses every incoming connection whatever the policy says: sudo tailscale set --shields-up=false` };
      if (peerIps.some((ip) => source.jailed.includes(ip))) return { verdict: "drop", decidedBy: "peer-jailed", reason: `control marks ${peer} as jailed: tailscaled on ${where} refuses every connection it opens, as with shields up` };
      return null;
  }
}
