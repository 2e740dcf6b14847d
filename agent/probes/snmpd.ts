// snmpd: does it answer a GET of sysUpTime.0 and sysDescr.0 with the configured community or
// v3 user, locally and on the host's Tailscale IP?
import { isIP } from "node:net";
import snmp, { type Session, type Varbind } from "net-snmp";
import type { Config } from "../config";
import type { SnmpdState } from "../state";
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

/** Net-SNMP's own words for the usual failures, so the reason reads like `snmpget` would say it. */
function explain(error: unknown, target: string, cfg: SnmpdConfig): string {
  if (error instanceof NothingListens) return error.message;
  const user = `user "${cfg.user?.name}"`;
  if (error instanceof snmp.RequestTimedOutError) {
    return cfg.version === "2c"
      ? `no answer from snmpd at ${target} (timeout): it is down, or it does not accept the configured community (probes.snmpd.community; snmpd ignores requests with an unknown community)`
      : `no answer from snmpd at ${target} (timeout): it is down, or it cannot decrypt the request (probes.snmpd.user.privKey or privProtocol differ from ${user}'s in snmpd)`;
  }
  const message = error instanceof Error ? error.message : String(error);
  // USM reports (RFC 3414) and error-status names, as net-snmp words them.
  if (/Unknown User Name/.test(message))
    return `snmpd at ${target} does not know ${user}: create it in snmpd (createUser, rouser), or fix probes.snmpd.user.name`;
  if (/Wrong Digest/.test(message))
    return `snmpd at ${target} rejected ${user}: wrong authKey or authProtocol (probes.snmpd.user)`;
  if (/Decryption Error/.test(message))
    return `snmpd at ${target} could not decrypt the request from ${user}: wrong privKey or privProtocol (probes.snmpd.user)`;
  if (/Unsupported Security Level/.test(message))
    return `snmpd at ${target} does not accept ${user} at this security level: set privProtocol and privKey as snmpd.conf requires`;
  if (/AuthorizationError|NoAccess|noAccess/.test(message))
    return `snmpd at ${target} answered but does not let ${cfg.version === "2c" ? "the community" : user} read sysDescr.0 and sysUpTime.0 (rocommunity/rouser and views in snmpd.conf; a user marked "priv" needs privProtocol and privKey)`;
  return `snmpd at ${target}: ${errorText(error)}`;
}

/** A net-snmp session to snmpd at `host` with the configured version and community or v3 user, no retries. */
export function snmpdSession(host: string, cfg: SnmpdConfig, timeoutMs: number): Session {
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
  const session = snmpdSession(host, cfg, timeoutMs);
  return new Promise<Answer>((resolve, reject) => {
    session.on("error", (error: Error) => {
      session.close();
      reject(error);
    });
    session.get([SYS_DESCR, SYS_UPTIME], (error: Error | null, varbinds: Varbind[]) => {
      session.close();
      if (error) return reject(error);
      const bad = varbinds.find((vb: Varbind) => snmp.isVarbindError(vb));
      if (bad) return reject(new Error(snmp.varbindError(bad)));
      resolve({ sysDescr: String(varbinds[0].value), sysUpTimeSeconds: Number(varbinds[1].value) / 100 });
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
      throw explain(error, `${bracket(host)}:${cfg.port}`, cfg);
    });
  const [local, tailnet] = await Promise.all([
    ask(cfg.host).then((answer) => ({ answer, error: null }), (error: string) => ({ answer: null, error })),
    tailnetIps.length === 0
      ? { reachable: null, error: null }
      : Promise.any(tailnetIps.map(ask)).then(
          () => ({ reachable: true, error: null }),
          (all: AggregateError) => ({ reachable: false, error: (all.errors as string[]).join("; ") }),
        ),
  ]);
  const state: SnmpdState = {
    target,
    up: local.answer !== null,
    sysDescr: local.answer?.sysDescr ?? null,
    sysUpTimeSeconds: local.answer?.sysUpTimeSeconds ?? null,
    tailnetReachable: tailnet.reachable,
  };
  if (local.error) state.error = local.error;
  if (tailnet.error) state.tailnetError = tailnet.error;
  return state;
}
