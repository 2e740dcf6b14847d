// Reads the authoritative engine ID out of an SNMPv3 message's header without decoding the rest
// (RFC 3412 msgGlobalData, RFC 3414 UsmSecurityParameters), so the receiver can decide whether
// to spend a key localization on it before net-snmp does. Pure; any malformed input is null.
import { BER, readTlv, type Tlv } from "../snmp/ber-tlv";

/** The element at offset, or null when it runs past `limit` (a few per datagram: one object each). */
function tlv(buf: Buffer, offset: number, limit: number): Tlv | null {
  const element: Tlv = { tag: 0, start: 0, end: 0 };
  return readTlv(buf, offset, limit, element) ? element : null;
}

const { SEQUENCE, INTEGER, OCTET_STRING } = BER;

/**
 * For an SNMPv3 message, its msgAuthoritativeEngineID (hex; "" for discovery); null for any
 * other version or a datagram that is not a well-formed message header.
 */
export function v3EngineId(buf: Buffer): string | null {
  const message = tlv(buf, 0, buf.length);
  if (!message || message.tag !== SEQUENCE) return null;
  const version = tlv(buf, message.start, message.end);
  if (!version || version.tag !== INTEGER || version.end - version.start !== 1 || buf[version.start] !== 3) return null;
  const globalData = tlv(buf, version.end, message.end);
  if (!globalData || globalData.tag !== SEQUENCE) return null;
  const security = tlv(buf, globalData.end, message.end);
  if (!security || security.tag !== OCTET_STRING) return null;
  const usm = tlv(buf, security.start, security.end);
  if (!usm || usm.tag !== SEQUENCE) return null;
  const engine = tlv(buf, usm.start, usm.end);
  if (!engine || engine.tag !== OCTET_STRING) return null;
  return buf.subarray(engine.start, engine.end).toString("hex");
}
