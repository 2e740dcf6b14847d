// The `firewall-port` check: tailscaled's real UDP port against the firewall probe's verdicts
// (in and out, IPv6 and IPv4; forwarded on routers), with the rule that would let it through.
import { runningTailnet, type FirewallCheck, type FirewallState, type NodeState } from "../../state";
import { nodeStateTimeout, type Check } from "../check";
import { fail, ok, skip, warn, type Finding } from "../finding";
import { wasAsked } from "../../firewall/questions";

const LABELS: Record<string, string> = {
  "inbound-ipv6": "in over IPv6",
  "inbound-ipv4": "in over IPv4",
  "outbound-ipv6": "out over IPv6",
  "outbound-ipv4": "out over IPv4",
  "forward-ipv6": "forwarded over IPv6",
};

export function label(check: FirewallCheck): string {
  return LABELS[check.id] ?? check.id;
}

/** The rule that lets the port through for one failed check, in the backend's own syntax. */
export function ruleFor(fw: FirewallState, check: FirewallCheck): string {
  const port = fw.port;
  const v6 = check.id.endsWith("ipv6");
  if (/iptables/i.test(fw.backend)) {
    const tool = v6 ? "ip6tables" : "iptables";
    if (check.id.startsWith("inbound")) return `sudo ${tool} -I INPUT -p udp --dport ${port} -j ACCEPT`;
    if (check.id.startsWith("outbound")) return `sudo ${tool} -I OUTPUT -p udp --sport ${port} -j ACCEPT`;
    return `sudo ${tool} -I FORWARD -p udp --sport ${port} -m conntrack --ctstate NEW -j ACCEPT`;
  }
  if (check.id.startsWith("inbound")) return `sudo nft add rule inet filter input udp dport ${port} accept`;
  if (check.id.startsWith("outbound")) return `sudo nft add rule inet filter output udp sport ${port} accept`;
  return `sudo nft add rule inet filter forward meta l4proto udp th sport ${port} ip6 saddr @<your prefixes> ct state new accept`;
}

/** The checks the firewall drops, when the probe ran; used by scraper-path to name a cause. */
export function droppedChecks(fw: NodeState["firewall"] | undefined): { fw: FirewallState; dropped: FirewallCheck[] } | null {
  if (!fw || fw.state !== "ok") return null;
  return { fw, dropped: fw.checks.filter((c) => c.verdict === "drop") };
}

export function judgeFirewallPort(fw: NodeState["firewall"] | undefined, tailscaledPort: number | null, configured: "auto" | number): Finding {
  if (!fw) return skip("no firewall verdicts: the firewall probe did not run in this build of edge-agent");
  if (fw.state !== "ok") return skip(`cannot read the firewall ruleset: ${fw.error}`, "sudo edge-agent doctor --check firewall-port (reading the ruleset needs root)");
  const why = (c: FirewallCheck) => c.reason ?? c.decidedBy;
  // The probe could not read any ruleset (no CAP_NET_ADMIN, no nft): nothing was decided.
  if (fw.backend === "none" && fw.checks.length > 0 && fw.checks.every((c) => c.verdict === "unknown"))
    return skip(`cannot read the firewall ruleset: ${why(fw.checks[0])}`, /CAP_NET_ADMIN/.test(why(fw.checks[0])) ? "sudo edge-agent doctor --check firewall-port" : null);
  // A question with no packet had nothing to ask (no global IPv4, say): not a verdict at all.
  const asked = fw.checks.filter(wasAsked);
  const notAsked = fw.checks.filter((c) => !asked.includes(c));
  if (asked.length === 0 && notAsked.length > 0) return skip(`nothing to ask the firewall about: ${why(notAsked[0])}`);
  const dropped = asked.filter((c) => c.verdict === "drop");
  if (dropped.length)
    return fail(
      `the firewall (${fw.backend}) drops tailscaled's UDP ${fw.port} ${dropped.map((c) => `${label(c)} (${c.decidedBy})`).join(", ")}`,
      dropped.map((c) => ruleFor(fw, c)).join(" ; "),
    );
  if (tailscaledPort !== null && fw.port !== tailscaledPort)
    return warn(
      `the firewall was checked for UDP ${fw.port}, but tailscaled bound UDP ${tailscaledPort}`,
      configured === "auto" ? `set PORT="${fw.port}" in /etc/default/tailscaled and restart tailscaled` : "firewall: { port: auto }",
    );
  const unknown = asked.filter((c) => c.verdict === "unknown");
  if (unknown.length)
    return warn(`cannot decide whether ${fw.backend} passes UDP ${fw.port} ${unknown.map((c) => `${label(c)}: ${why(c)}`).join("; ")}`, `edge-agent firewall check --json shows the rule it stopped at`);
  if (asked.length === 0) return warn(`no firewall questions were asked about UDP ${fw.port}`, "edge-agent firewall check");
  const guessed = fw.portSource === "default" ? ` (tailscaled's bound port is unknown: checked ${fw.port}, Tailscale's default)` : "";
  const skipped = notAsked.length ? `; not asked ${notAsked.map(label).join(", ")}: ${why(notAsked[0])}` : "";
  const through = fw.backend === "none" ? "with no firewall ruleset loaded" : `through ${fw.backend}`;
  return ok(`tailscaled's UDP ${fw.port} passes ${through}: ${asked.map(label).join(", ")}${skipped}${guessed}`);
}

export const firewallPortCheck: Check = {
  id: "firewall-port",
  group: "firewall",
  scope: "any",
  summary: "tailscaled's real UDP port passes the firewall, in and out, IPv6 and IPv4",
  timeoutMs: nodeStateTimeout,
  run: async (ctx) => {
    const state = await ctx.nodeState();
    const port = runningTailnet(state.tailnet)?.port ?? null;
    return judgeFirewallPort(state.firewall, port, ctx.config.firewall.port);
  },
};
