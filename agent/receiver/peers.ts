// Fleet completeness and the notify-scraper verdicts, from the scraper's own tailscaled: every
// `receiver.tailnetRefresh` (and at start and on reload, never per datagram) it re-reads the
// peer list (LocalAPI status) and its packet filter (IPN bus), and from those it knows
// - the peers carrying `receiver.nodeTag`: each is a node of the fleet whether or not its agent
//   reports; one with no report (no record in FleetState) for a stale window after it was first
//   seen here (or after the receiver started) is silent;
// - for every node (tagged peers and reporting nodes) whether the scraper's filter admits its
//   udp/162 (flow notify-scraper), computed once per reading and per new node.
// Peers are re-read, never saved: the saved fleet holds only what nodes reported. A failed read
// keeps the last good one (a tailscaled restart must not empty the target list), counted and logged.
import Counter from "prom-client/lib/counter";
import type Registry from "prom-client/lib/registry";
import type { Config } from "../config";
import type { Logger } from "../log";
import type { FilterSource } from "../policy/filter-source";
import { notifyJudge, type FleetNode, type NotifyJudge, type NotifyVerdict } from "../policy/notify-flows";
import { findSocket } from "../probes/localapi";
import type { Alert } from "./alerts";
import type { FleetState, NodeRecord } from "./fleet-state";
import type { LogLimiter } from "./log-limiter";
import { readScraperTailnet } from "./scraper-tailnet";
import { scraperTag, silentAlert, silentCause, type RoleTags } from "./silent-cause";
import type { PeerList, TaggedPeer } from "./tagged-peers";

export interface PeersContext {
  config: () => Config;
  log: () => Logger;
  limiter: LogLimiter;
  fleet: FleetState;
  registry: Registry;
  /** Something the outputs show changed (targets, silence, verdicts). */
  changed: () => void;
}

/** One node as the per-node peer series show it. */
export interface Coverage {
  node: string;
  /** null: not a tagged peer; else whether it is silent past its window. */
  silent: boolean | null;
  verdict: NotifyVerdict | null;
}

interface Reading {
  list: PeerList;
  /** The scraper's packet filter; null until one could be read. */
  filter: FilterSource | null;
  scraperIps: string[];
}

/** A rule's text lists every address it admits: logged cut short. */
const short = (text: string): string => (text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text);

function claimedIps(record: NodeRecord): string[] {
  const v = record.values.edgeAgentTailnetAddresses;
  return typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : [];
}

export class TailnetPeers {
  private reading: Reading | null = null;
  /** The reading's filter, compiled once (a large one takes a second or more). */
  private judge: NotifyJudge | null = null;
  private readonly firstSeenMs = new Map<string, number>();
  private silentNow = new Set<string>();
  /** node -> its verdict and the addresses it was decided for. */
  private verdicts = new Map<string, { ips: string; verdict: NotifyVerdict }>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly failures: Counter<"what">;

  constructor(
    private readonly ctx: PeersContext,
    private readonly startedAtMs: number,
  ) {
    this.failures = new Counter({
      name: "edge_fleet_receiver_tailnet_read_failures_total",
      help: "Failed reads of the scraper's tailscaled for fleet completeness and the notify-scraper verdicts, by what (status: the peer list; packet_filter).",
      labelNames: ["what"],
      registers: [ctx.registry],
    });
    for (const what of ["status", "packet_filter"]) this.failures.inc({ what }, 0);
  }

  private socket(): string | null {
    return findSocket(this.ctx.config().tailscale.socket);
  }

  get tags(): RoleTags {
    const node = this.ctx.config().receiver.nodeTag;
    return { node, scraper: scraperTag(this.reading?.list.selfTags ?? [], node) };
  }

  /** Reads now, then every receiver.tailnetRefresh; a read in progress is not started twice. */
  start(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    return this.refresh().finally(() => {
      // A reload during a read calls this twice for one read: one timer only.
      if (this.timer) clearTimeout(this.timer);
      if (!this.stopped) this.timer = setTimeout(() => void this.start(), this.ctx.config().receiver.tailnetRefreshMs);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Never rejects: a bug here must not take the receiver down (it runs from a timer). */
  refresh(): Promise<void> {
    this.running ??= this.read()
      .catch((error: unknown) => this.ctx.log().error({ err: (error as Error)?.stack ?? String(error) }, "unexpected error reading the scraper's tailnet peers"))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async read(): Promise<void> {
    const socket = this.socket();
    if (!socket) return;
    const config = this.ctx.config();
    const { peers: status, filter } = await readScraperTailnet(socket, config.receiver.nodeTag, config.probes.timeoutMs);
    if (this.stopped) return;
    const previous = this.reading;
    let list = previous?.list ?? null;
    if ("error" in status) {
      this.failures.inc({ what: "status" });
      this.ctx.limiter.warn("tailnet-peers", { socket, err: status.error }, `cannot read the scraper's tailnet peers${list ? " (keeping the last list)" : ""}`);
    } else {
      list = status;
      if (!previous || previous.list.tagged.length !== list.tagged.length || previous.list.refused.join() !== list.refused.join())
        this.ctx.log().info({ nodeTag: config.receiver.nodeTag, tagged: list.tagged.length, ...(list.refused.length ? { refused: list.refused.slice(0, 20) } : {}) }, `tailnet peers: ${list.tagged.length} carry ${config.receiver.nodeTag}`);
      for (const name of list.refused) this.ctx.limiter.warn("tailnet-peer-name", { peer: name.slice(0, 64), nodeTag: config.receiver.nodeTag }, `a peer carrying ${config.receiver.nodeTag} is not listed as a target: its name ${JSON.stringify(name.slice(0, 64))} is not a DNS label`);
    }
    let source = previous?.filter ?? null;
    let scraperIps = previous?.scraperIps ?? [];
    if (filter.state === "unavailable") {
      this.failures.inc({ what: "packet_filter" });
      this.ctx.limiter.warn("tailnet-filter", { socket, code: filter.code, err: filter.error }, `cannot read the scraper's packet filter for the notify-scraper verdicts${source ? " (keeping the last one)" : ""}`);
    } else {
      source = filter.source;
      scraperIps = filter.selfIps.length ? filter.selfIps : (list?.selfIps ?? []);
    }
    if (!list) return;
    const filterChanged = JSON.stringify(source) !== JSON.stringify(previous?.filter ?? null) || scraperIps.join() !== (previous?.scraperIps ?? []).join();
    this.reading = { list, filter: source, scraperIps };
    const now = Date.now();
    const names = new Set(list.tagged.map((p) => p.node));
    for (const name of [...this.firstSeenMs.keys()]) if (!names.has(name)) this.firstSeenMs.delete(name);
    for (const name of names) if (!this.firstSeenMs.has(name)) this.firstSeenMs.set(name, now);
    if (filterChanged) {
      this.judge = source ? notifyJudge(source, scraperIps) : null;
      this.redecide();
    }
    // Only a change re-renders the outputs (a fleet generation change also saves the fleet).
    if (filterChanged || JSON.stringify(list.tagged) !== JSON.stringify(previous?.list.tagged)) this.ctx.changed();
  }

  /** Every node's verdict again (a new filter): one compilation for the whole fleet; logs what changed. */
  private redecide(): void {
    const old = this.verdicts;
    this.verdicts = new Map();
    this.decide(this.knownNodes());
    for (const [node, { verdict }] of this.verdicts) {
      const was = old.get(node)?.verdict;
      if (was?.verdict === verdict.verdict) continue;
      if (verdict.verdict === "drop" || was)
        this.ctx.limiter[verdict.verdict === "drop" ? "warn" : "info"]("notify-verdict", { node, verdict: verdict.verdict, was: was?.verdict ?? null, decidedBy: short(verdict.decidedBy), ...(verdict.reason ? { reason: short(verdict.reason) } : {}) }, `${node}: the scraper's packet filter ${verdict.verdict === "accept" ? "admits" : verdict.verdict === "drop" ? "drops" : "may or may not admit"} its notifications (udp/162)`);
    }
  }

  private knownNodes(): FleetNode[] {
    const list = this.reading?.list;
    const out = new Map<string, FleetNode>();
    for (const p of list?.tagged ?? []) out.set(p.node, { name: p.node, ips: p.ips });
    for (const record of this.ctx.fleet.nodes.values()) if (!out.has(record.node)) out.set(record.node, { name: record.node, ips: list?.addresses.get(record.node) ?? claimedIps(record) });
    return [...out.values()];
  }

  /** Decides the nodes whose addresses have no verdict yet, in one batch. */
  private decide(nodes: FleetNode[]): void {
    if (!this.judge) return;
    const todo = nodes.filter((n) => this.verdicts.get(n.name)?.ips !== n.ips.join());
    if (!todo.length) return;
    // The judge answers in the order it was asked.
    this.judge(todo).forEach((verdict, i) => this.verdicts.set(todo[i].name, { ips: todo[i].ips.join(), verdict }));
  }

  private windowMs(): number {
    const o = this.ctx.fleet.options;
    return o.defaultHeartbeatMs * o.staleAfterHeartbeats;
  }

  private silentForMs(peer: TaggedPeer, nowMs: number): number | null {
    if (this.ctx.fleet.nodes.has(peer.node)) return null;
    const since = Math.max(this.firstSeenMs.get(peer.node) ?? nowMs, this.startedAtMs);
    const silentFor = nowMs - since;
    return silentFor > this.windowMs() ? silentFor : null;
  }

  /** Marks tagged peers silent past their window (logging each); true when the set changed. */
  sweep(nowMs: number): boolean {
    const next = new Set<string>();
    for (const peer of this.reading?.list.tagged ?? []) {
      if (this.silentForMs(peer, nowMs) === null) continue;
      next.add(peer.node);
      if (this.silentNow.has(peer.node)) continue;
      const cause = silentCause(peer, this.verdictOf(peer.node, peer.ips), this.tags);
      this.ctx.limiter.warn("silent", { node: peer.node, cause: cause.cause, fix: cause.fix }, `${peer.node}: carries ${this.tags.node}, but its agent sent nothing within the stale window; likely cause: ${cause.text}`);
    }
    const changed = next.size !== this.silentNow.size || [...next].some((n) => !this.silentNow.has(n));
    this.silentNow = next;
    if (changed) this.ctx.changed();
    return changed;
  }

  private verdictOf(node: string, ips: string[]): NotifyVerdict | null {
    const cached = this.verdicts.get(node);
    if (cached?.ips === ips.join()) return cached.verdict;
    this.decide([{ name: node, ips }]);
    return this.verdicts.get(node)?.verdict ?? null;
  }

  /** Tagged peers the fleet has no record of: file_sd targets labelled agent="silent". */
  unreported(): TaggedPeer[] {
    return (this.reading?.list.tagged ?? []).filter((p) => !this.ctx.fleet.nodes.has(p.node));
  }

  /** Every node the per-node peer series describe, sorted; verdicts for new nodes are decided here. */
  coverage(nowMs: number): Coverage[] {
    // Without a reading (no tailscaled) there is nothing to say about any node.
    if (!this.reading) return [];
    const nodes = this.knownNodes();
    this.decide(nodes);
    const tagged = new Map((this.reading?.list.tagged ?? []).map((p) => [p.node, p]));
    // Nodes the fleet forgot and no peer lists keep no verdict.
    if (this.verdicts.size > nodes.length) {
      const known = new Set(nodes.map((n) => n.name));
      for (const node of [...this.verdicts.keys()]) if (!known.has(node)) this.verdicts.delete(node);
    }
    return nodes
      .map((n) => {
        const peer = tagged.get(n.name);
        return { node: n.name, silent: peer ? this.silentForMs(peer, nowMs) !== null : null, verdict: this.verdicts.get(n.name)?.verdict ?? null };
      })
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  /** A fleet node's verdict (decided now if it is new), with its addresses from the peer list, else its report. */
  nodeVerdict(node: string): NotifyVerdict | null {
    const record = this.ctx.fleet.nodes.get(node);
    return this.verdictOf(node, this.reading?.list.addresses.get(node) ?? (record ? claimedIps(record) : []));
  }

  /** EdgeNodeSilent for each silent tagged peer. */
  alerts(nowMs: number): Alert[] {
    const out: Alert[] = [];
    for (const peer of this.reading?.list.tagged ?? []) {
      const silentFor = this.silentForMs(peer, nowMs);
      if (silentFor !== null) out.push(silentAlert(peer, this.verdictOf(peer.node, peer.ips), this.tags, silentFor));
    }
    return out;
  }
}
