// The tailnet checks: tailscaled running and logged in, the expected tags, MagicDNS resolving
// the scraper, and the path to the scraper after a disco ping (direct over IPv6 is the goal;
// relayed names its likely cause).
import ipaddr from "ipaddr.js";
import type { Config } from "../../config";
import type { Ipv6Part } from "../../state/ipv6";
import type { NodeState } from "../../state/node-state";
import { tailnetFailure, type TailnetFailure, type TailnetState, type TailnetUnavailable } from "../../state/tailnet";
import { SELF } from "../../self-command";
import { nodeStateTimeout, type Check } from "../check";
import type { Resolution } from "../facts/dns";
import { isInstalled } from "../facts/installed";
import type { Ipv4Address } from "../../probes/ipv4";
import { fail, notInstalled, ok, skip, warn, type Finding } from "../finding";
import { installCommand } from "../install";
import { droppedChecks, label, ruleFor } from "./firewall";


const NOT_RUNNING_FIX = "the tailscaled check's fix first, then run doctor again";

function running(t: TailnetState | TailnetUnavailable): TailnetState | null {
  return t.state === "Running" ? (t as TailnetState) : null;
}

function upCommand(tags: string[]): string {
  return `sudo tailscale up --advertise-tags=${tags.join(",")}`;
}

const START_FIX = "sudo systemctl enable --now tailscaled (why it stopped: journalctl -u tailscaled)";

/** What to do about each way the tailnet probe can fail; the type makes a new code need one. */
const TAILNET_FIXES: Record<TailnetFailure, string> = {
  "not-installed": START_FIX,
  "status-unreadable": START_FIX,
  "status-malformed": "tailscale version (edge-agent reads the status document of Tailscale 1.50 or later: upgrade tailscale)",
  timeout: START_FIX,
  "probe-error": `tailscale status --json (what tailscaled answers), then: ${SELF} doctor --check tailscaled`,
};

export function judgeTailscaled(t: TailnetState | TailnetUnavailable, expectedTags: string[], installed: boolean): Finding {
  const tags = expectedTags.length ? expectedTags : ["tag:monitor"];
  const failed = tailnetFailure(t);
  if (failed) {
    if (!installed && failed.code === "not-installed") return notInstalled("fail", "Tailscale is not installed: no tailscaled or tailscale binary, no LocalAPI socket", `${installCommand(["tailscale"], null)} && ${upCommand(tags)}`, "tailscale");
    return fail(failed.error, TAILNET_FIXES[failed.code]);
  }
  const ts = t as TailnetState;
  switch (ts.state) {
    case "Running": {
      const who = `${ts.dnsName || ts.hostname} (${ts.ips.join(", ") || "no Tailscale IP"})`;
      if (ts.health.length) return warn(`tailscaled ${ts.version} is logged in as ${who}, but reports: ${ts.health[0]}`, "tailscale status (its health messages say what to do)");
      return ok(`tailscaled ${ts.version} is running, logged in as ${who}`);
    }
    case "NeedsLogin":
      return fail("tailscaled is logged out (NeedsLogin)", upCommand(tags));
    case "NeedsMachineAuth":
      return fail("tailscaled is waiting for an admin to approve this machine (NeedsMachineAuth)", "approve it in the admin console's Machines page, or log in with a pre-approved auth key");
    case "Stopped":
      return fail("tailscaled is stopped (tailscale down was run)", "sudo tailscale up");
    default:
      return warn(`tailscaled is ${ts.state}, not Running yet`, `wait a few seconds, then: ${SELF} doctor --check tailscaled`);
  }
}

export function judgeTags(t: TailnetState | TailnetUnavailable, expectedTags: string[]): Finding {
  const ts = running(t);
  if (!ts) return skip("tailscaled is not Running (see the tailscaled check)", NOT_RUNNING_FIX);
  if (expectedTags.length === 0) return ok(`no tags expected (tailscale.expectedTags is empty); has ${ts.tags.join(", ") || "none"}`);
  if (ts.missingTags.length === 0) return ok(`has ${expectedTags.join(", ")}`);
  const all = [...ts.tags, ...ts.missingTags];
  return fail(
    `missing ${ts.missingTags.join(", ")} (has ${ts.tags.join(", ") || "no tags"}): the tailnet policy's rules for ${ts.missingTags.join(", ")} do not apply to this node`,
    `${upCommand(all)} (the policy's tagOwners must let you apply ${ts.missingTags.length === 1 ? "it" : "them"})`,
  );
}

function sameAddress(a: string, b: string): boolean {
  return ipaddr.isValid(a) && ipaddr.isValid(b) && ipaddr.process(a).toString() === ipaddr.process(b).toString();
}

export function judgeMagicDns(scraper: string, resolution: Resolution | null, t: TailnetState | TailnetUnavailable): Finding {
  const name = scraper.replace(/^\[(.*)\]$/, "$1");
  if (resolution === null || ipaddr.isValid(name)) return skip(`scraper is set to an address (${name}): no name to resolve`, "nothing to do (set scraper: to its MagicDNS name to have MagicDNS checked too)");
  const ts = running(t);
  const peer = ts?.scraper.found ? ts.scraper : null;
  const acceptDns = `sudo tailscale set --accept-dns=true, and turn on MagicDNS in the admin console's DNS page`;
  if (resolution.addresses === null) {
    // One cause, one failure: without tailscaled there is no MagicDNS to ask.
    if (!ts) return skip(`"${name}" does not resolve (${resolution.error}), and tailscaled, which answers MagicDNS names, is not Running (see the tailscaled check)`, NOT_RUNNING_FIX);
    return fail(`"${name}" does not resolve: ${resolution.error}`, peer?.ips[0] ? `${acceptDns}; or set scraper: ${peer.ips[0]}` : acceptDns);
  }
  const got = resolution.addresses.join(", ") || "no address";
  if (!peer) return warn(`"${name}" resolves to ${got}, but without tailscaled's peer list it cannot be told to be the scraper's Tailscale IP`, "see the tailscaled and scraper-path checks");
  if (resolution.addresses.some((a) => peer.ips.some((ip) => sameAddress(a, ip)))) return ok(`"${name}" resolves to ${got}, the scraper's Tailscale IP`);
  const fqdn = peer.dnsName ? peer.dnsName.replace(/\.$/, "") : null;
  return fail(
    `"${name}" resolves to ${got}, not the scraper's Tailscale IPs (${peer.ips.join(", ")}): not through MagicDNS`,
    fqdn ? `set scraper: ${fqdn} (the MagicDNS name), or ${acceptDns}` : acceptDns,
  );
}

/** Whether this host is itself the configured scraper (no path to judge then). */
export function isSelf(ts: TailnetState, scraper: string): boolean {
  const wanted = scraper.toLowerCase().replace(/\.$/, "").replace(/^\[(.*)\]$/, "$1");
  const dns = ts.dnsName.toLowerCase();
  return ts.hostname.toLowerCase() === wanted || dns === wanted || dns.split(".")[0] === wanted || ts.ips.some((ip) => sameAddress(ip, wanted));
}

interface Cause {
  text: string;
  fix: string;
}

/** What on this host most likely keeps the path to the scraper from going direct (over IPv6). */
export function likelyCauses(state: Pick<NodeState, "ipv6"> & { firewall?: NodeState["firewall"] }, ipv4: Ipv4Address[], family: "ipv6" | "any"): Cause[] {
  const causes: Cause[] = [];
  const fw = droppedChecks(state.firewall);
  const relevant = fw?.dropped.filter((c) => family === "any" || c.id.endsWith("ipv6")) ?? [];
  if (fw && relevant.length)
    causes.push({ text: `the firewall drops tailscaled's UDP ${fw.fw.port} ${relevant.map(label).join(", ")}`, fix: relevant.map((c) => ruleFor(fw.fw, c)).join(" ; ") });
  const v6: Ipv6Part = state.ipv6;
  if (v6.state !== "ok" || v6.primary === null) {
    const cgnat = ipv4.length > 0 && ipv4.every((a) => a.kind === "cgnat");
    causes.push({
      text: `this host has no global IPv6 /64${cgnat ? " and its IPv4 is behind carrier-grade NAT" : ""}`,
      fix: "give this host's subnet a global /64 by router advertisements",
    });
  }
  return causes;
}

export function judgeScraperPath(state: Pick<NodeState, "ipv6"> & { tailnet: TailnetState | TailnetUnavailable; firewall?: NodeState["firewall"] }, ipv4: Ipv4Address[], config: Pick<Config, "scraper">): Finding {
  const ts = running(state.tailnet);
  if (!ts) return skip("tailscaled is not Running (see the tailscaled check)", NOT_RUNNING_FIX);
  if (isSelf(ts, config.scraper)) return skip(`this host is the scraper ("${config.scraper}"): no path to itself`, "nothing to do here: doctor on each node checks its path to this scraper");
  const s = ts.scraper;
  const name = s.dnsName?.replace(/\.$/, "") ?? s.hostname ?? config.scraper;
  if (!s.found)
    return fail(`no peer in the tailnet matches scraper "${config.scraper}"`, "set scraper: to the scraper's host name, MagicDNS name or Tailscale IP as `tailscale status` lists it (not listed: the tailnet policy hides it from this node)");
  const rtt = s.latencyMs !== null ? `, ${s.latencyMs} ms` : "";
  switch (s.path) {
    case "direct":
      if (s.family === "ipv6") return ok(`direct over IPv6 to ${name} via ${s.endpoint}${rtt}`);
      {
        const causes = likelyCauses(state, ipv4, "ipv6");
        return warn(
          `direct to ${name}, but over IPv4 (${s.endpoint}${rtt}); IPv6 is preferred: ${causes.length ? causes.map((c) => c.text).join("; ") : "this host's side looks right, so the scraper's IPv6 or its firewall may be the cause"}`,
          causes[0]?.fix ?? `on the scraper: ip -6 addr show scope global, and its firewall for UDP 41641`,
        );
      }
    case "relay":
    case "peer-relay": {
      const via = s.path === "relay" ? `relayed through DERP ${s.relay ?? "(unknown region)"}` : `relayed through the peer relay ${s.relay}`;
      const causes = likelyCauses(state, ipv4, "any");
      return warn(
        `${via} to ${name}${rtt}: ${causes.length ? `likely because ${causes.map((c) => c.text).join("; ")}` : "this host's side looks right (global IPv6, firewall passes); check the scraper's firewall and IPv6"}`,
        causes[0]?.fix ?? `tailscale netcheck (here and on the scraper), then: tailscale ping ${name}`,
      );
    }
    case "offline":
      return fail(`the scraper ${name} is offline${s.error ? ` (${s.error})` : ""}`, "on the scraper: sudo tailscale up, and tailscale status there");
    default:
      return warn(`the path to ${name} is ${s.path}${s.error ? `: ${s.error}` : ""}`, `tailscale ping ${name}`);
  }
}

export const tailscaledCheck: Check = {
  id: "tailscaled",
  group: "tailnet",
  scope: "any",
  summary: "tailscaled is running and logged in",
  timeoutMs: nodeStateTimeout,
  run: async (ctx) => {
    return judgeTailscaled((await ctx.nodeState()).tailnet, ctx.config.tailscale.expectedTags, isInstalled("tailscaled", "tailscale"));
  },
};

export const tagsCheck: Check = {
  id: "tags",
  group: "tailnet",
  scope: "any",
  summary: "this node has tailscale.expectedTags (tag:monitor)",
  timeoutMs: nodeStateTimeout,
  run: async (ctx) => judgeTags((await ctx.nodeState()).tailnet, ctx.config.tailscale.expectedTags),
};

export const magicDnsCheck: Check = {
  id: "magicdns",
  group: "tailnet",
  scope: "any",
  summary: "the scraper's name resolves to its Tailscale IP",
  timeoutMs: nodeStateTimeout,
  run: async (ctx) => {
    const name = ctx.config.scraper.replace(/^\[(.*)\]$/, "$1");
    const [resolution, state] = await Promise.all([ipaddr.isValid(name) ? null : ctx.resolve(name), ctx.nodeState()]);
    return judgeMagicDns(ctx.config.scraper, resolution, state.tailnet);
  },
};

export const scraperPathCheck: Check = {
  id: "scraper-path",
  group: "tailnet",
  scope: "any",
  summary: "the path to the scraper is direct after a disco ping, over IPv6 preferred",
  timeoutMs: nodeStateTimeout,
  run: async (ctx) => judgeScraperPath(await ctx.nodeState(), await ctx.hostIpv4(), ctx.config),
};
