// One BER element (tag, length, content) read in place from a datagram, for the receiver's
// readers that look into messages before (or instead of) net-snmp: the v3 header's engine ID and
// the v2c notifications read straight from the datagram. Pure; never throws.

/** The universal BER tags an SNMP message's header and varbinds use. */
export const BER = { INTEGER: 0x02, OCTET_STRING: 0x04, OBJECT_IDENTIFIER: 0x06, SEQUENCE: 0x30 } as const;

export interface Tlv {
  tag: number;
  /** The content lies between start and end. */
  start: number;
  end: number;
}

/**
 * Reads the element at `offset` into `into` (reused, so a datagram's dozens of elements allocate
 * nothing); false when it is cut short or runs past `limit`. Definite lengths of up to four
 * octets, as every SNMP message has.
 */
export function readTlv(buf: Buffer, offset: number, limit: number, into: Tlv): boolean {
  if (offset + 2 > limit) return false;
  let length = buf[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) return false;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + buf[start + i];
    start += octets;
  }
  const end = start + length;
  if (end > limit) return false;
  into.tag = buf[offset];
  into.start = start;
  into.end = end;
  return true;
}
