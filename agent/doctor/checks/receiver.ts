// The scraper's checks: the receiver holds every UDP address in receiver.listen (and not some
// other daemon, such as an old snmptrapd on 162), its config can accept and verify
// notifications, its file_sd file is kept fresh, and the scraper's own tailscaled packet filter
// lets every peer carrying receiver.nodeTag send it notifications (udp/162, flow notify-scraper).
import { readFile, stat } from "node:fs/promises";
import { parse } from "yaml";
import type { Config } from "../../config";
import { SELF } from "../../self-command";
import { notifyVerdicts, type NotifyVerdict } from "../../policy/notify-flows";
import type { FilterUnreadable } from "../../probes/packet-filter-source";
import { readScraperTailnet, type ScraperTailnet } from "../../receiver/scraper-tailnet";
import { dropIsPolicy, notifyEntry, scraperTag } from "../../receiver/silent-cause";
import { startupWarnings, tailscaledSocket, type ConfigWarning } from "../../receiver/startup-warnings";
import { errorText } from "../../probes/deadline";
import type { Check } from "../check";
import { procText } from "../facts/node-exporter-process";
import { startTimeMs } from "../facts/process-start";
import { isReceiveCommand } from "../facts/role";
import type { UdpSocket } from "../../probes/udp-listeners";
import { parseListen, socketOwners, socketsFor, type SocketOwner } from "../facts/udp-sockets";
import { unitInstalled } from "../facts/units";
import { fail, ok, skip, warn, type Finding } from "../finding";
import { afterPackage } from "../package-first";

/** Starting the receiver's unit, which exists once the package is installed. */
function start(unitInstalled: boolean | undefined): string {
  return afterPackage(unitInstalled, "ships edge-agent-receiver.service", "sudo systemctl enable --now edge-agent-receiver");
}

export interface ListenFacts {
  listen: string[];
  sockets: UdpSocket[];
  owners: Map<number, SocketOwner>;
  /** Whether edge-agent-receiver.service is installed. */
  unitInstalled?: boolean;
}

function isEdgeAgent(owner: SocketOwner): boolean {
  return isReceiveCommand(owner.cmdline) || owner.comm === "edge-agent";
}

export function judgeReceiverListen(facts: ListenFacts): Finding {
  const missing: string[] = [];
  const foreign: string[] = [];
  const pids = new Set<number>();
  for (const spec of facts.listen) {
    const parsed = parseListen(spec);
    const bound = parsed ? socketsFor(parsed, facts.sockets) : [];
    if (bound.length === 0) {
      missing.push(spec);
      continue;
    }
    for (const s of bound) {
      const owner = facts.owners.get(s.inode);
      if (owner && !isEdgeAgent(owner)) foreign.push(`${spec} by ${owner.comm} (pid ${owner.pid})`);
      else if (owner) pids.add(owner.pid);
    }
  }
  if (foreign.length) return fail(`receiver.listen is taken by another program: ${foreign.join(", ")}`, `stop it (e.g. sudo systemctl disable --now snmptrapd), then ${start(facts.unitInstalled)}`);
  if (missing.length === facts.listen.length) return fail(`nothing listens on ${missing.join(", ")}: the receiver is not running`, start(facts.unitInstalled));
  if (missing.length) return fail(`the receiver listens on some receiver.listen addresses but not on ${missing.join(", ")}`, `sudo systemctl restart edge-agent-receiver (its log says why a bind failed: journalctl -u edge-agent-receiver)`);
  const by = pids.size ? ` (edge-agent receive, pid ${[...pids].join(", ")})` : "";
  return ok(`listening on ${facts.listen.join(", ")}${by}`);
}

/** The receiver logs the same warnings at start; here they are one finding. */
export function judgeReceiverConfig(warnings: ConfigWarning[], tailscaledSocket: string | null, allowSources: string[]): Finding {
  if (warnings.length === 0) {
    const how = tailscaledSocket ? `tailscaled whois (${tailscaledSocket})` : `receiver.allowSources (${allowSources.join(", ")})`;
    return ok(`credentials configured; senders are verified with ${how}`);
  }
  const failing = warnings.find((w) => w.code === "no-credentials");
  const text = warnings.map((w) => w.text).join("; ");
  const fix = warnings.map((w) => w.fix).join("; and ");
  return failing ? fail(text, fix) : warn(text, fix);
}

export interface FileSdFacts {
  path: string;
  mtimeMs: number | null;
  error?: string;
  targets: number | null;
  parseError?: string;
  nowMs: number;
  /** The running `edge-agent receive` and when it started; null when none runs here. */
  receiver: { pid: number; startedMs: number | null } | null;
  /** Whether edge-agent-receiver.service is installed. */
  unitInstalled?: boolean;
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/**
 * The receiver writes the file when it starts and whenever the fleet's targets change, not on a
 * timer: so "fresh" means written by the receiver running now. With none running, the file is
 * only as good as its age within the stale window (heartbeat x staleAfterHeartbeats).
 */
export function judgeFileSd(facts: FileSdFacts, config: Pick<Config, "run" | "receiver">): Finding {
  const window = config.run.heartbeatMs * config.receiver.staleAfterHeartbeats;
  const startFix = start(facts.unitInstalled);
  if (facts.mtimeMs === null)
    return fail(`${facts.path} does not exist (${facts.error}): the receiver has not written it`, `${startFix}; Prometheus reads it with file_sd_configs: [{ files: [${facts.path}] }]`);
  if (facts.targets === null) return fail(`${facts.path} is not a file_sd target list: ${facts.parseError}`, "sudo systemctl restart edge-agent-receiver (it rewrites the file)");
  const age = Math.max(0, facts.nowMs - facts.mtimeMs);
  const what = `${facts.path}: ${facts.targets} target${facts.targets === 1 ? "" : "s"}, written ${ago(age)}`;
  const r = facts.receiver;
  if (r && r.startedMs !== null) {
    // A second of slack: the receiver writes it within its first refresh.
    if (facts.mtimeMs + 1000 >= r.startedMs) return ok(`${what} by the running receiver (pid ${r.pid})`);
    return fail(
      `${what}, before the running receiver (pid ${r.pid}) started ${ago(Math.max(0, facts.nowMs - r.startedMs))}: it cannot write the file`,
      `check that the receiver's user may write ${facts.path} (its log says why: journalctl -u edge-agent-receiver; metric edge_fleet_receiver_write_failures_total)`,
    );
  }
  if (r) return ok(`${what}; the receiver (pid ${r.pid}) rewrites it when the targets change`);
  if (age > window)
    return fail(`${what}, longer than ${config.receiver.staleAfterHeartbeats} heartbeats (${ago(window).replace(" ago", "")}), and no receiver runs to keep it`, startFix);
  return warn(`${what}, but no \`edge-agent receive\` runs here to keep it current`, startFix);
}

/** `pid`: the running `edge-agent receive` (doctor's one scan of /proc, shared by its checks). */
function runningReceiver(pid: number | null): FileSdFacts["receiver"] {
  if (pid === null) return null;
  return { pid, startedMs: startTimeMs(procText(`/proc/${pid}/stat`), procText("/proc/stat")) };
}

export async function readFileSd(path: string, receivePid: number | null): Promise<FileSdFacts> {
  const nowMs = Date.now();
  const receiver = runningReceiver(receivePid);
  try {
    const info = await stat(path);
    try {
      const doc = parse(await readFile(path, "utf8")) as unknown;
      if (doc !== null && !Array.isArray(doc)) throw new Error("expected a list of { targets, labels }");
      const groups = (doc ?? []) as { targets?: unknown }[];
      const targets = groups.reduce((n, g) => n + (Array.isArray(g?.targets) ? g.targets.length : 0), 0);
      return { path, mtimeMs: info.mtimeMs, targets, nowMs, receiver };
    } catch (error) {
      return { path, mtimeMs: info.mtimeMs, targets: null, parseError: errorText(error), nowMs, receiver };
    }
  } catch (error) {
    return { path, mtimeMs: null, targets: null, error: errorText(error), nowMs, receiver };
  }
}

export const receiverListenCheck: Check = {
  id: "receiver-listen",
  group: "receiver",
  scope: "scraper",
  summary: "the receiver holds every receiver.listen UDP address",
  timeoutMs: () => 5000,
  run: async (ctx) => {
    const sockets = await ctx.udpSockets();
    const specs = ctx.config.receiver.listen.map(parseListen).filter((s) => s !== null);
    const relevant = sockets.filter((s) => specs.some((spec) => socketsFor(spec!, [s]).length > 0));
    return judgeReceiverListen({ listen: ctx.config.receiver.listen, sockets, owners: socketOwners(relevant.map((s) => s.inode)), unitInstalled: unitInstalled("edge-agent-receiver.service") });
  },
};

export const receiverConfigCheck: Check = {
  id: "receiver-config",
  group: "receiver",
  scope: "scraper",
  summary: "the receiver has credentials to accept notifications and a way to verify their senders",
  timeoutMs: () => 1000,
  run: async (ctx) => {
    const socket = tailscaledSocket(ctx.config);
    return judgeReceiverConfig(startupWarnings(ctx.config, socket !== null), socket, ctx.config.receiver.allowSources);
  },
};

export const receiverFileSdCheck: Check = {
  id: "receiver-file-sd",
  group: "receiver",
  scope: "scraper",
  summary: "receiver.fileSd exists, parses and was written by the receiver running now",
  timeoutMs: () => 5000,
  run: async (ctx) => judgeFileSd({ ...(await readFileSd(ctx.config.receiver.fileSd, ctx.edgeAgentPid("receive"))), unitInstalled: unitInstalled("edge-agent-receiver.service") }, ctx.config),
};

export interface NotifyPolicyFacts extends ScraperTailnet {
  nodeTag: string;
}

const FILTER_FIXES: Record<FilterUnreadable["code"], string> = {
  localapi: "check that tailscaled runs on the scraper: sudo systemctl status tailscaled",
  malformed: "update tailscaled on the scraper; if it persists, report it with `tailscale version`",
  "no-filter-source": "run a tailscaled build with the debug LocalAPI endpoints, or one that still sends PacketFilterRules on its IPN bus",
};

/** At most a few names, then how many more. */
function named(verdicts: NotifyVerdict[], detail: boolean): string {
  const shown = verdicts.slice(0, 5).map((v) => (detail ? `${v.node} (${v.decidedBy})` : v.node));
  return `${shown.join(", ")}${verdicts.length > 5 ? ` and ${verdicts.length - 5} more` : ""}`;
}

/** Pure: does the scraper's filter admit udp/162 from every peer carrying the node tag? */
export function judgeNotifyPolicy(facts: NotifyPolicyFacts): Finding {
  if ("error" in facts.peers) return warn(`cannot read this scraper's tailnet peers: ${facts.peers.error}`, "check that tailscaled runs on the scraper: sudo systemctl status tailscaled");
  if (facts.filter.state === "unavailable") return warn(`cannot read this scraper's packet filter (${facts.filter.code}): ${facts.filter.error}`, FILTER_FIXES[facts.filter.code]);
  const list = facts.peers;
  const tags = { node: facts.nodeTag, scraper: scraperTag(list.selfTags, facts.nodeTag) };
  if (list.tagged.length === 0)
    return warn(`no peer of this scraper carries ${facts.nodeTag} (receiver.nodeTag): no node's notifications can be checked`, `tag the nodes (on each: sudo tailscale set --advertise-tags=${facts.nodeTag}) or set receiver.nodeTag to the nodes' tag`);
  const scraperIps = facts.filter.selfIps.length ? facts.filter.selfIps : list.selfIps;
  const verdicts = notifyVerdicts(facts.filter.source, scraperIps, list.tagged.map((p) => ({ name: p.node, ips: p.ips })));
  const of = (verdict: NotifyVerdict["verdict"]) => verdicts.filter((v) => v.verdict === verdict);
  const dropped = of("drop");
  const unknown = of("unknown");
  const all = `${verdicts.length} peer${verdicts.length === 1 ? "" : "s"} carrying ${facts.nodeTag}`;
  if (dropped.length) {
    const policy = dropped.filter(dropIsPolicy);
    const other = dropped.find((v) => !dropIsPolicy(v));
    const fixes = [policy.length || !other?.reason ? `add to the tailnet policy's acls: ${notifyEntry(tags)} (check the file with \`${SELF} policy check FILE\`)` : null, other?.reason ?? null].filter(Boolean);
    return fail(`the scraper's packet filter drops udp/162 (notify-scraper) from ${dropped.length} of ${all}, so their notifications never arrive: ${named(dropped, true)}`, fixes.join("; "));
  }
  if (unknown.length)
    return warn(`whether the scraper's packet filter admits udp/162 from ${named(unknown, false)} is unknown: ${unknown[0].reason ?? unknown[0].decidedBy}`, unknown[0].reason ?? `check that the tailnet policy lets ${tags.node} reach ${tags.scraper}:162/udp: ${SELF} policy check FILE`);
  const rules = [...new Set(verdicts.map((v) => v.decidedBy.split(":")[0]))];
  return ok(`the scraper's packet filter admits udp/162 from all ${all} (${rules.slice(0, 3).join(", ")}${rules.length > 3 ? ", ..." : ""})`);
}


export const receiverNotifyPolicyCheck: Check = {
  id: "receiver-notify-policy",
  group: "receiver",
  scope: "scraper",
  summary: "the scraper's tailnet packet filter lets every peer carrying receiver.nodeTag reach it on udp/162",
  timeoutMs: (config) => config.probes.timeoutMs * 2 + 1000,
  run: async (ctx) => {
    const socket = tailscaledSocket(ctx.config);
    if (!socket) return skip("no tailscaled socket on this host: the scraper's packet filter cannot be read", "install and start tailscaled on the scraper (or set tailscale.socket)");
    const nodeTag = ctx.config.receiver.nodeTag;
    return judgeNotifyPolicy({ nodeTag, ...(await readScraperTailnet(socket, nodeTag, ctx.config.probes.timeoutMs)) });
  },
};
