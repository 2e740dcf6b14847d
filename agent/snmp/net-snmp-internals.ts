// Every place the trap receiver reaches past net-snmp's documented API, in one file: its
// listener's sockets and datagram handler, the USM reports it sends by itself, its cache of
// localized keys, and how its errors tell credential failures from garbage. All of it is
// checked against the pinned net-snmp version (package.json); an upgrade reviews this file.
// (The AgentX framing lives in agentx.ts.)
import type { Socket } from "node:dgram";
import snmp from "net-snmp";

/** net-snmp's receiver object (createReceiver's result), opaque outside this file. */
export type NetSnmpReceiver = { readonly __netSnmpReceiver: unique symbol };

export interface Rinfo {
  address: string;
  port: number;
}

/** The USM statistics a report PDU names (RFC 3414 usmStats), as the receiver counts them. */
export type UsmReportKind = "unauthenticated" | "not_in_time_window" | "unknown_user" | "unknown_engine" | "wrong_digest" | "decrypt_failed";

const USM_STATS = "1.3.6.1.6.3.15.1.1.";
const USM_KINDS: Record<string, UsmReportKind> = {
  "1": "unauthenticated",
  "2": "not_in_time_window",
  "3": "unknown_user",
  "4": "unknown_engine",
  "5": "wrong_digest",
  "6": "decrypt_failed",
};

/** Which usmStats counter an OID is (usmStatsWrongDigests.0 -> wrong_digest), or null. */
export function usmReportKind(oid: string): UsmReportKind | null {
  if (!oid.startsWith(USM_STATS)) return null;
  return USM_KINDS[oid.slice(USM_STATS.length).split(".")[0]] ?? null;
}

export function createNetSnmpReceiver(options: Record<string, unknown>, callback: (error: any, data: any) => void): NetSnmpReceiver {
  return snmp.createReceiver(options, callback) as NetSnmpReceiver;
}

const raw = (receiver: NetSnmpReceiver): any => receiver as any;

export function receiverSockets(receiver: NetSnmpReceiver): Socket[] {
  return Object.values(raw(receiver).listener?.sockets ?? {}) as Socket[];
}

export function authorizer(receiver: NetSnmpReceiver): any {
  return raw(receiver).getAuthorizer();
}

/**
 * Calls onReport for every USM report the receiver sends: net-snmp answers informs from unknown
 * users or at too low a security level (and v3 discovery) by itself and never calls back.
 */
export function watchReports(receiver: NetSnmpReceiver, onReport: (kind: UsmReportKind, rinfo: Rinfo, user: string | undefined) => void): void {
  const listener = raw(receiver).listener;
  const originalSend = listener.send.bind(listener);
  listener.send = (message: any, rinfo: Rinfo, socket: Socket) => {
    if (message?.pdu?.type === snmp.PduType.Report) {
      const kind = usmReportKind(String(message.pdu.varbinds?.[0]?.oid ?? ""));
      const user = message?.msgSecurityParameters?.msgUserName;
      if (kind) onReport(kind, rinfo, typeof user === "string" ? user : undefined);
    }
    originalSend(message, rinfo, socket);
  };
}

/**
 * Takes the socket's datagrams away from net-snmp's own handler (which throws on some datagrams
 * outside its try, e.g. re-encoding a mutated inform for the acknowledgement): `handle` sees
 * each one first and calls `process` to hand it to net-snmp, or drops it by not calling it.
 */
export function interceptDatagrams(receiver: NetSnmpReceiver, socket: Socket, handle: (buffer: Buffer, rinfo: Rinfo, process: () => void) => void): void {
  socket.removeAllListeners("message");
  socket.on("message", (buffer: Buffer, rinfo: Rinfo) => handle(buffer, rinfo, () => raw(receiver).onMsg(socket, buffer, rinfo)));
}

/**
 * Sends an encoded message from the receiver's socket the way net-snmp sends its own answers
 * (through its listener, so its error handling and watchReports see it as they see those).
 */
export function sendEncoded(receiver: NetSnmpReceiver, socket: Socket, buffer: Buffer, rinfo: Rinfo): void {
  raw(receiver).listener.send({ toBuffer: () => buffer }, rinfo, socket);
}

/**
 * net-snmp remembers every localized v3 key by (protocol, password, engine ID) forever. Accepting
 * v3 traps from any engine ID means anyone who knows a user name can grow that cache with made-up
 * engine IDs, so it is emptied when it gets large (it only saves a hash per message).
 */
export function boundKeyCache(max = 10_000): void {
  const auth = (snmp as unknown as { Authentication?: { authToKeyCache?: Record<string, unknown> } }).Authentication;
  const cache = auth?.authToKeyCache;
  if (!cache) return;
  let n = 0;
  for (const _ in cache) if (++n > max) break;
  if (n > max) auth!.authToKeyCache = {};
}

export type ReceiveFailure = { kind: "auth"; reason: "unknown_community" | "unknown_user" | "wrong_digest" | "decrypt_failed" | "unauthenticated"; user?: string } | { kind: "decode"; detail: string };

/**
 * What an error net-snmp's receiver reports for a datagram means. net-snmp gives its request
 * failures no codes, so its own fixed sentences are the only way to tell them apart: they are
 * matched here, against the pinned version, and nowhere else.
 */
export function classifyReceiveError(error: any): ReceiveFailure {
  const message = String(error?.message ?? "");
  if (error?.name === "RequestFailedError") {
    if (message.startsWith("Local community not found")) return { kind: "auth", reason: "unknown_community" };
    if (message.startsWith("Local user not found")) return { kind: "auth", reason: "unknown_user" };
    if (/requires (authentication|privacy)/.test(message)) return { kind: "auth", reason: "unauthenticated" };
  }
  if (error?.name === "ResponseInvalidError") {
    const user = typeof error?.info?.user?.name === "string" ? error.info.user.name : undefined;
    if (error.code === snmp.ResponseInvalidCode?.EAuthFailure || error.code === 5) return { kind: "auth", reason: "wrong_digest", user };
    if (error.code === snmp.ResponseInvalidCode?.ECouldNotDecrypt || error.code === 4) return { kind: "auth", reason: "decrypt_failed", user };
  }
  // Only our own words go to the log: net-snmp's messages can carry digests or key material.
  const inner = error?.error?.message ? String(error.error.message).slice(0, 120) : "";
  if (error?.name === "ProcessingError") return { kind: "decode", detail: inner ? `not a decodable SNMP message: ${inner}` : "not a decodable SNMP message" };
  if (error?.name === "RequestInvalidError") return { kind: "decode", detail: message.slice(0, 120) };
  return { kind: "decode", detail: `${error?.name ?? "error"}: ${message.slice(0, 120)}` };
}

// ---- sender side ---------------------------------------------------------------------------

/** net-snmp's texts for the usmStats reports an inform is refused with (its UsmStats table). */
const USM_REPORT_TEXTS: Record<string, UsmReportKind> = {
  "Unsupported Security Level": "unauthenticated",
  "Not In Time Window": "not_in_time_window",
  "Unknown User Name": "unknown_user",
  "Unknown Engine ID": "unknown_engine",
  "Wrong Digest (incorrect password, community or key)": "wrong_digest",
  "Decryption Error": "decrypt_failed",
};

/**
 * Why a send failed: the receiver refused it with a USM report (which one), gave no answer at
 * all, or gave none after answering v3 engine discovery (so it is there, and refused the
 * inform without a report, as net-snmp's receiver does on a wrong digest).
 */
export type SendFailure = { code: "usm-report"; usm: UsmReportKind } | { code: "no-answer" } | { code: "no-answer-after-discovery" } | { code: "error" };

export function sendFailure(error: any, session: unknown): SendFailure {
  if (error?.name === "ResponseInvalidError" && error.code === snmp.ResponseInvalidCode?.EAuthFailure) {
    const usm = USM_REPORT_TEXTS[String(error.message)];
    if (usm) return { code: "usm-report", usm };
  }
  if (error?.name === "RequestTimedOutError") {
    // A v3 session keeps the security parameters of the receiver's discovery report.
    const discovered = (session as { msgSecurityParameters?: { msgAuthoritativeEngineID?: Buffer } } | null)?.msgSecurityParameters?.msgAuthoritativeEngineID;
    return discovered && discovered.length > 0 ? { code: "no-answer-after-discovery" } : { code: "no-answer" };
  }
  return { code: "error" };
}
