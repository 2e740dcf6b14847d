// Reads the authoritative engine ID out of an SNMPv3 message's header without decoding the rest
// (RFC 3412 msgGlobalData, RFC 3414 UsmSecurityParameters), so the receiver can decide whether
// to spend a key localization on it before net-snmp does. Pure; any malformed input is null.

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** The TLV at offset, its content between start and end; null when it runs past `limit`. */
function tlv(buf: Buffer, offset: number, limit: number): Tlv | null {
  if (offset + 2 > limit) return null;
  const tag = buf[offset];
  let length = buf[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) return null;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + buf[start + i];
    start += octets;
  }
  const end = start + length;
  return end > limit ? null : { tag, start, end };
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;

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
