// What happens to a datagram net-snmp has decoded (or refused), or to a notification read
// straight from its datagram (v2c-notification.ts): credential failures and garbage
// are counted and logged (rate-limited); other MIBs' notifications are logged, cut short;
// edgeAgentTest notifications are logged and counted but never touch the fleet; EDGE-AGENT-MIB
// notifications pass the value limits and the identity check, then FleetState decides whether
// they are new, late or duplicates. Nothing here may throw back into net-snmp.
import type { Config } from "../config";
import type { Logger } from "../log";
import { classifyReceiveError, type Rinfo } from "../snmp/net-snmp-internals";
import type { OidTree } from "../snmp/oid-tree";
import type { ObjectValues } from "../snmp/state-objects";
import { nodeName, type FleetState } from "./fleet-state";
import { canonicalAddress, checkIdentity, type Claim, type IdentityVerdict, type WhoisResult } from "./identity";
import { isTargetName, oversize } from "./limits";
import type { HeartbeatLog } from "./heartbeat-log";
import type { LogLimiter } from "./log-limiter";
import type { AuthFailure, ReceiverMetrics } from "./metrics";
import { toNotification, type Notification, type RenderedVarbind } from "./notification";
import type { Whois } from "./whois";

/** Other MIBs' notifications are logged with at most this many varbinds, each value cut to this length. */
const LOGGED_VARBINDS = 32;
const LOGGED_VALUE_CHARS = 200;

export interface IngestContext {
  config: () => Config;
  tree: () => OidTree;
  whois: () => Whois;
  log: () => Logger;
  fleet: FleetState;
  metrics: ReceiverMetrics;
  limiter: LogLimiter;
  heartbeats: HeartbeatLog;
  /** The fleet changed: save it (debounced). */
  changed: () => void;
  stopped: () => boolean;
}

const AUTH_MESSAGES: Record<AuthFailure, string> = {
  unknown_community: "dropped a notification with a community not in receiver.communities",
  unknown_user: "dropped a v3 notification from a user not in receiver.users",
  unauthenticated: "dropped a v3 notification without the authentication or privacy its user requires",
  wrong_digest: "dropped a v3 notification whose digest does not match (wrong authKey on the sender?)",
  decrypt_failed: "dropped a v3 notification that did not decrypt (wrong privKey or privProtocol on the sender?)",
};

function cut(value: unknown): unknown {
  return typeof value === "string" && value.length > LOGGED_VALUE_CHARS ? `${value.slice(0, LOGGED_VALUE_CHARS)}… (${value.length} chars)` : value;
}

/** Varbinds as logged: bounded in number and length, so a notification cannot grow the log much more than its own size. */
export function loggedVarbinds(varbinds: RenderedVarbind[]): { varbinds: RenderedVarbind[]; varbindsOmitted?: number } {
  const shown = varbinds.slice(0, LOGGED_VARBINDS).map((vb) => ({ ...vb, value: cut(vb.value) as RenderedVarbind["value"] }));
  return varbinds.length > LOGGED_VARBINDS ? { varbinds: shown, varbindsOmitted: varbinds.length - LOGGED_VARBINDS } : { varbinds: shown };
}

function claimOf(v: ObjectValues): Claim {
  return {
    tailnetName: typeof v.edgeAgentTailnetName === "string" ? v.edgeAgentTailnetName : "",
    hostName: typeof v.edgeAgentHostName === "string" ? v.edgeAgentHostName : "",
    addresses: typeof v.edgeAgentTailnetAddresses === "string" ? v.edgeAgentTailnetAddresses.split(",").map((s) => s.trim()).filter(Boolean) : [],
  };
}

export class Ingest {
  constructor(private readonly ctx: IngestContext) {}

  authFailure(reason: AuthFailure, rinfo: Partial<Rinfo> | undefined, user?: string): void {
    this.ctx.metrics.authFailures.inc({ reason });
    this.ctx.limiter.warn(
      `auth:${reason}`,
      { source: rinfo?.address ? canonicalAddress(rinfo.address) : null, sourcePort: rinfo?.port ?? null, reason, ...(user ? { user } : {}) },
      AUTH_MESSAGES[reason],
    );
  }

  decodeError(rinfo: Partial<Rinfo> | undefined, problem: string): void {
    this.ctx.metrics.decodeErrors.inc();
    this.ctx.limiter.warn("decode", { source: canonicalAddress(rinfo?.address ?? ""), sourcePort: rinfo?.port ?? null, problem }, "dropped a datagram that is not a usable SNMP notification");
  }

  /** net-snmp's receiver callback. */
  receive(error: any, data: any): void {
    try {
      if (error) {
        const rinfo = error.rinfo as Rinfo | undefined;
        if (!rinfo) {
          this.ctx.log().error({ err: String(error?.message ?? error) }, "listener socket error");
          return;
        }
        const failure = classifyReceiveError(error);
        if (failure.kind === "auth") this.authFailure(failure.reason, rinfo, failure.user);
        else this.decodeError(rinfo, failure.detail);
        return;
      }
      let n: Notification;
      try {
        n = toNotification(data, this.ctx.tree());
      } catch (e) {
        this.decodeError(data?.rinfo, (e as Error).message);
        return;
      }
      if (n.version === "3" && !n.user) {
        // net-snmp lets an empty user name through as noAuthNoPriv (it is how discovery works).
        this.authFailure("unauthenticated", data.rinfo);
        return;
      }
      this.notification(n);
    } catch (unexpected) {
      this.unexpected(unexpected, "unexpected error handling a datagram");
    }
  }

  /** A notification read straight from its datagram (v2c-notification.ts), as if net-snmp had handed it over. */
  accept(n: Notification): void {
    try {
      this.notification(n);
    } catch (unexpected) {
      this.unexpected(unexpected, "unexpected error handling a datagram");
    }
  }

  /** A bug must not take the receiver down; say so loudly instead. */
  private unexpected(error: unknown, message: string): void {
    this.ctx.metrics.decodeErrors.inc();
    this.ctx.log().error({ err: (error as Error).stack ?? String(error) }, message);
  }

  private notification(n: Notification): void {
    this.ctx.metrics.countReceived(n.version, n.pdu, n.edgeAgent ? "edge_agent" : "other");
    if (!n.edgeAgent) {
      this.ctx.limiter.info("other-mib", { ...this.base(n), upTime: n.upTimeCentiseconds, ...loggedVarbinds(n.varbinds) }, `notification ${n.trapName ?? n.trapOid ?? "(no snmpTrapOID)"}`);
      return;
    }
    const values = n.edgeAgent.values;
    const tooLarge = oversize(values);
    if (tooLarge) {
      this.ctx.metrics.dropped.inc({ reason: "oversize" });
      this.ctx.limiter.warn("oversize", { ...this.base(n), reason: "oversize", problem: tooLarge }, `dropped an EDGE-AGENT-MIB notification: ${tooLarge}`);
      return;
    }
    const whois = this.ctx.whois();
    if (!whois.enabled) this.verified(n, { kind: "unavailable", error: "no tailscaled socket" });
    else
      whois.lookup(n.source.address, n.source.port).then(
        (who) => this.verified(n, who),
        (e: Error) => this.verified(n, { kind: "unavailable", error: e.message }),
      );
  }

  private base(n: Notification): Record<string, unknown> {
    return {
      source: canonicalAddress(n.source.address),
      sourcePort: n.source.port,
      version: n.version,
      pdu: n.pdu,
      ...(n.user ? { user: n.user } : {}),
      trapOid: n.trapOid,
      trapName: n.trapName,
    };
  }

  private verified(n: Notification, who: WhoisResult): void {
    if (this.ctx.stopped()) return;
    try {
      this.apply(n, who);
    } catch (unexpected) {
      this.unexpected(unexpected, "unexpected error applying a notification");
    }
  }

  private apply(n: Notification, who: WhoisResult): void {
    const { fleet, metrics, limiter } = this.ctx;
    const log = this.ctx.log();
    const edge = n.edgeAgent!;
    const v = edge.values;
    const claim = claimOf(v);
    const node = nodeName(v);
    const config = this.ctx.config().receiver;
    const bound = node ? (fleet.nodes.get(node)?.source ?? null) : null;
    const verdict: IdentityVerdict = checkIdentity(n.source.address, claim, config, who, bound || null, fleet.nodeAt(canonicalAddress(n.source.address)));
    // Built only for a line that is logged: most notifications log nothing at info.
    const fields = () => ({ ...this.base(n), event: edge.def.event, sequence: v.edgeAgentNotificationSequence ?? null, summary: v.edgeAgentEventSummary ?? "" });
    const whoisError = who.kind === "unavailable" && this.ctx.whois().enabled ? { whoisError: who.error } : {};
    if (edge.def.event === "test") {
      // `trap --test` (and doctor): answered by net-snmp already; say what a real one would meet.
      // Rate-limited like refusals: anyone with the community can send these.
      metrics.tests.inc();
      limiter.info(
        "test",
        { ...fields(), claimedNode: node, ...(verdict.ok ? { identity: verdict.how } : { wouldDrop: verdict.reason, problem: verdict.detail, ...whoisError }) },
        `test notification from ${node ?? canonicalAddress(n.source.address)}${verdict.ok ? "" : ` (its node's real notifications would be dropped: ${verdict.detail})`}; not applied to the fleet`,
      );
      return;
    }
    if (!verdict.ok) {
      metrics.dropped.inc({ reason: verdict.reason });
      limiter.warn("identity", { ...fields(), claimedNode: claim.tailnetName || claim.hostName, reason: verdict.reason, ...whoisError }, `dropped: ${verdict.detail}`);
      return;
    }
    if (node !== null && !isTargetName(node)) {
      metrics.dropped.inc({ reason: "invalid" });
      limiter.warn("invalid", fields(), `dropped an EDGE-AGENT-MIB notification: its node name ${JSON.stringify(node.slice(0, 64))} is not a DNS label (letters, digits and inner hyphens, at most 63)`);
      return;
    }
    const result = fleet.apply(v, edge.def.event, Date.now(), canonicalAddress(n.source.address));
    switch (result.kind) {
      case "invalid":
        metrics.dropped.inc({ reason: "invalid" });
        limiter.warn("invalid", fields(), `dropped an EDGE-AGENT-MIB notification: ${result.problem}`);
        return;
      case "full":
        metrics.dropped.inc({ reason: "fleet_full" });
        limiter.warn("full", { ...fields(), node: result.node, maxNodes: fleet.options.maxNodes }, "dropped a notification from a new node: the fleet is at its node limit");
        return;
      case "duplicate":
        metrics.dropped.inc({ reason: "duplicate" });
        if (log.isLevelEnabled("debug")) log.debug({ ...fields(), node: result.node, outcome: "duplicate" }, "duplicate notification dropped");
        return;
      case "late": {
        metrics.late.inc();
        const routine = edge.def.event === "heartbeat";
        const level = !routine || this.ctx.heartbeats.admit(log) ? "info" : "debug";
        if (log.isLevelEnabled(level)) log[level]({ ...fields(), node: result.node, outcome: "late", identity: verdict.how, objects: v }, `${result.node}: ${edge.def.event} (late, older than the node's latest state)`);
        return;
      }
      case "new": {
        const outcome = result.firstSeen ? "first" : result.counterReset ? "counter-reset" : "applied";
        this.ctx.changed();
        // A routine heartbeat (not a node's first, not after a counter reset) may be summed up instead.
        const routine = outcome === "applied" && edge.def.event === "heartbeat";
        const level = !routine || this.ctx.heartbeats.admit(log) ? "info" : "debug";
        if (log.isLevelEnabled(level))
          log[level](
            { ...fields(), node: result.node, outcome, identity: verdict.how, objects: v },
            `${result.node}: ${edge.def.event}${v.edgeAgentEventSummary ? ` — ${v.edgeAgentEventSummary}` : ""}`,
          );
        return;
      }
    }
  }
}
