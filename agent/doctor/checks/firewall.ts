// The `firewall-port` check: tailscaled's real UDP port against the firewall probe's verdicts
// (in and out, IPv6 and IPv4; forwarded on routers), with the rule that would let it through.
import { FIREWALL_CHECKS, isFirewallCheckId, type FirewallCheck, type FirewallFailure, type FirewallState, type RulesetFailure } from "../../state/firewall";
import { runningTailnet, type NodeState } from "../../state/node-state";
import { SELF } from "../../self-command";
import { nodeStateTimeout, type Check } from "../check";
import { fail, notInstalled, ok, skip, warn, type Finding } from "../finding";
import { installCommand, type PackageTool } from "../install";

export function label(check: FirewallCheck): string {
  return isFirewallCheckId(check.id) ? FIREWALL_CHECKS[check.id].label : check.id;
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
  return `sudo nft add rule inet filter forward meta l4proto udp th sport ${port} ${v6 ? "ip6" : "ip"} saddr @<your prefixes> ct state new accept`;
}

/** The checks the firewall drops, when the probe ran; used by scraper-path to name a cause. */
export function droppedChecks(fw: NodeState["firewall"] | undefined): { fw: FirewallState; dropped: FirewallCheck[] } | null {
  if (!fw || fw.state !== "ok") return null;
  return { fw, dropped: fw.checks.filter((c) => c.verdict === "drop") };
}

const ROOT_FIX = `sudo ${SELF} doctor --check firewall-port`;

/** What to do about each way the firewall probe can fail; the types make a new code need one. */
const FIREWALL_FIXES: Record<FirewallFailure, string> = {
  timeout: `raise probes.timeout (a large ruleset takes longer to read and judge), then: ${ROOT_FIX}`,
  "probe-error": `${ROOT_FIX} (reading the ruleset needs root)`,
};
/** A missing tool is fixed by installing it (with this host's package tool, below). */
const RULESET_FIXES: Record<Exclude<RulesetFailure, "no-ruleset-tool">, string> = {
  "needs-cap-net-admin": ROOT_FIX,
  "ruleset-read-failed": "sudo nft -j list ruleset (its error says what is wrong with the ruleset or the tool)",
};

export function judgeFirewallPort(fw: NodeState["firewall"] | undefined, tailscaledPort: number | null, configured: "auto" | number, tool: PackageTool | null = "apt"): Finding {
  if (!fw) return skip("no firewall verdicts: the firewall probe did not run in this build of edge-agent", `${SELF} firewall check (it runs the firewall probe on its own)`);
  if (fw.state !== "ok") return skip(`cannot read the firewall ruleset: ${fw.error}`, FIREWALL_FIXES[fw.code]);
  const why = (c: FirewallCheck) => c.reason ?? c.decidedBy;
  // The probe could not read any ruleset (no CAP_NET_ADMIN, no nft): nothing was decided.
  const unreadable = fw.unreadable;
  if (unreadable?.code === "no-ruleset-tool") return notInstalled("skip", `cannot read the firewall ruleset: ${unreadable.error}`, installCommand(["nftables"], tool), "nftables");
  if (unreadable) return skip(`cannot read the firewall ruleset: ${unreadable.error}`, RULESET_FIXES[unreadable.code]);
  // A question with no packet had nothing to ask (no global IPv4, say): not a verdict at all.
  const asked = fw.checks.filter((c) => !(c.verdict === "unknown" && c.packet === undefined));
  const notAsked = fw.checks.filter((c) => !asked.includes(c));
  if (asked.length === 0 && notAsked.length > 0) return skip(`nothing to ask the firewall about: ${why(notAsked[0])}`, "nothing to do until this host has a global address (see the ipv6-prefix and ipv4-nat checks)");
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
    return warn(`cannot decide whether ${fw.backend} passes UDP ${fw.port} ${unknown.map((c) => `${label(c)}: ${why(c)}`).join("; ")}`, `${SELF} firewall check --json shows the rule it stopped at`);
  if (asked.length === 0) return warn(`no firewall questions were asked about UDP ${fw.port}`, `${SELF} firewall check`);
  const guessed = fw.portSource === "default" ? ` (tailscaled's bound port is unknown: checked ${fw.port}, Tailscale's default)` : fw.portSource === "defaults-file" ? ` (tailscaled's bound port is unknown: checked ${fw.port}, the PORT in /etc/default/tailscaled)` : "";
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
    return judgeFirewallPort(state.firewall, port, ctx.config.firewall.port, ctx.packageTool());
  },
};
