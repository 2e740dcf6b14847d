// snmpd: does it answer a GET of sysUpTime.0 and sysDescr.0 with the configured community or
// v3 user, locally and on the host's Tailscale IP?
import { isIP } from "node:net";
import snmp, { type Session, type Varbind } from "net-snmp";
import type { Config } from "../config";
import type { ServiceFailure, SnmpdState } from "../state/services";
import { toNetSnmpUser, V2C_ENGINE_ID } from "../snmp/usm";
import { errorText } from "./deadline";
import { localUdpListener } from "./udp-listeners";

const SYS_DESCR = "1.3.6.1.2.1.1.1.0";
const SYS_UPTIME = "1.3.6.1.2.1.1.3.0";

type SnmpdConfig = Config["probes"]["snmpd"];

interface Answer {
  sysDescr: string;
  sysUpTimeSeconds: number;
}

class NothingListens extends Error {}
/** snmpd answered, but with an error for an object: its view (VACM) does not let the user read it. */
class NotInView extends Error {}

/** net-snmp's codes for a request snmpd refused: a USM report, or an error-status. */
const REFUSED_RESPONSES = new Set([snmp.ResponseInvalidCode.EAuthFailure, snmp.ResponseInvalidCode.ECouldNotDecrypt]);
const REFUSED_STATUSES = new Set([snmp.ErrorStatus.NoAccess, snmp.ErrorStatus.AuthorizationError]);

/** The kind of failure, from the error's class and net-snmp's codes (never its wording). */
function failureOf(error: unknown): ServiceFailure {
  if (error instanceof NothingListens) return "not-listening";
  if (error instanceof snmp.RequestTimedOutError) return "no-answer";
  if (error instanceof NotInView) return "access-denied";
  if (error instanceof snmp.ResponseInvalidError && REFUSED_RESPONSES.has((error as { code?: number }).code ?? -1)) return "access-denied";
  if (error instanceof snmp.RequestFailedError && REFUSED_STATUSES.has((error as { status?: number }).status ?? -1)) return "access-denied";
  return "probe-error";
}

/**
 * RFC 3414's usmStats reports, by the name net-snmp gives each (its UsmStats table, which it does
 * not export): an exact key, not a pattern. A report it words otherwise gets the general reason;
 * its code (access-denied) is the same either way.
 */
const USM_REPORTS: Record<string, (target: string, user: string) => string> = {
  "Unknown User Name": (target, user) => `snmpd at ${target} does not know ${user}: create it in snmpd (createUser, rouser), or fix probes.snmpd.user.name`,
  "Wrong Digest (incorrect password, community or key)": (target, user) => `snmpd at ${target} rejected ${user}: wrong authKey or authProtocol (probes.snmpd.user)`,
  "Decryption Error": (target, user) => `snmpd at ${target} could not decrypt the request from ${user}: wrong privKey or privProtocol (probes.snmpd.user)`,
  "Unsupported Security Level": (target, user) => `snmpd at ${target} does not accept ${user} at this security level: set privProtocol and privKey as snmpd.conf requires`,
};

/** Net-SNMP's own words for the usual failures, so the reason reads like `snmpget` would say it. */
function explain(error: unknown, target: string, cfg: SnmpdConfig): string {
  if (error instanceof NothingListens) return error.message;
  const user = `user "${cfg.user?.name}"`;
  if (error instanceof snmp.RequestTimedOutError) {
    return cfg.version === "2c"
      ? `no answer from snmpd at ${target} (timeout): it is down, or it does not accept the configured community (probes.snmpd.community; snmpd ignores requests with an unknown community)`
      : `no answer from snmpd at ${target} (timeout): it is down, or it cannot decrypt the request (probes.snmpd.user.privKey or privProtocol differ from ${user}'s in snmpd)`;
  }
  if (error instanceof snmp.ResponseInvalidError) {
    const code = (error as { code?: number }).code;
    if (code === snmp.ResponseInvalidCode.ECouldNotDecrypt) return USM_REPORTS["Decryption Error"](target, user);
    const report = code === snmp.ResponseInvalidCode.EAuthFailure ? USM_REPORTS[(error as Error).message] : undefined;
    if (report) return report(target, user);
  }
  if (error instanceof snmp.RequestFailedError && REFUSED_STATUSES.has((error as { status?: number }).status ?? -1))
    return `snmpd at ${target} answered but does not let ${cfg.version === "2c" ? "the community" : user} read sysDescr.0 and sysUpTime.0 (rocommunity/rouser and views in snmpd.conf; a user marked "priv" needs privProtocol and privKey)`;
  return `snmpd at ${target}: ${errorText(error)}`;
}

/** A net-snmp session to snmpd at `host` with the configured version and community or v3 user, no retries. */
function snmpdSession(host: string, cfg: SnmpdConfig, timeoutMs: number): Session {
  const transport = isIP(host) === 6 ? "udp6" : "udp4";
  const options = { port: cfg.port, retries: 0, timeout: timeoutMs, transport, idBitsSize: 32 } as const;
  return cfg.version === "3" && cfg.user
    ? snmp.createV3Session(host, toNetSnmpUser(cfg.user), { ...options, version: snmp.Version3 })
    : snmp.createSession(host, cfg.community, { ...options, version: snmp.Version2c, engineID: V2C_ENGINE_ID });
}

async function getOnce(host: string, cfg: SnmpdConfig, timeoutMs: number): Promise<Answer> {
  // On this host the kernel already knows whether anyone listens: say so now instead of after
  // the whole timeout.
  if ((await localUdpListener(host, cfg.port)) === false)
    throw new NothingListens(`nothing listens on UDP port ${cfg.port} at ${host}: snmpd is not running, or not on this address (agentAddress in snmpd.conf)`);
  const varbinds = await snmpdGet(host, cfg, [SYS_DESCR, SYS_UPTIME], timeoutMs);
  const bad = varbinds.find((vb: Varbind) => snmp.isVarbindError(vb));
  if (bad) throw new NotInView(snmp.varbindError(bad));
  return { sysDescr: String(varbinds[0].value), sysUpTimeSeconds: Number(varbinds[1].value) / 100 };
}

/** One GET through snmpd at `host` with the configured version and credentials; the varbinds as answered. */
export function snmpdGet(host: string, cfg: SnmpdConfig, oids: string[], timeoutMs: number): Promise<Varbind[]> {
  return new Promise((resolve, reject) => {
    const session = snmpdSession(host, cfg, timeoutMs);
    session.on("error", (error: Error) => {
      session.close();
      reject(error);
    });
    session.get(oids, (error: Error | null, varbinds: Varbind[]) => {
      session.close();
      if (error) reject(error);
      else resolve(varbinds);
    });
  });
}

const bracket = (host: string) => (host.includes(":") ? `[${host}]` : host);

/**
 * The configured target and the Tailscale IPs are asked at once, so a silent one costs one
 * timeout; the first Tailscale IP that answers settles reachability without waiting for the rest.
 */
export async function probeSnmpd(cfg: SnmpdConfig, tailnetIps: string[], timeoutMs: number): Promise<SnmpdState> {
  const target = `${bracket(cfg.host)}:${cfg.port}`;
  const ask = (host: string) =>
    getOnce(host, cfg, timeoutMs).catch((error: unknown) => {
      throw { code: failureOf(error), error: explain(error, `${bracket(host)}:${cfg.port}`, cfg) };
    });
  type Failed = { code: ServiceFailure; error: string };
  const [local, tailnet] = await Promise.all([
    ask(cfg.host).then((answer) => ({ answer, failed: null }), (failed: Failed) => ({ answer: null, failed })),
    tailnetIps.length === 0
      ? { reachable: null, error: null }
      : Promise.any(tailnetIps.map(ask)).then(
          () => ({ reachable: true, error: null }),
          (all: AggregateError) => ({ reachable: false, error: (all.errors as Failed[]).map((f) => f.error).join("; ") }),
        ),
  ]);
  const state: SnmpdState = {
    target,
    up: local.answer !== null,
    sysDescr: local.answer?.sysDescr ?? null,
    sysUpTimeSeconds: local.answer?.sysUpTimeSeconds ?? null,
    tailnetReachable: tailnet.reachable,
  };
  if (local.failed) {
    state.code = local.failed.code;
    state.error = local.failed.error;
  }
  if (tailnet.error) state.tailnetError = tailnet.error;
  return state;
}
