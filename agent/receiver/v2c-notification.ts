// The receiver's common case read straight from the datagram: a v2c trap or inform carrying one
// of EDGE-AGENT-MIB's notifications, from a configured community. net-snmp would decode every
// varbind into an object with an OID string (most of its time per notification) only for the
// receiver to look each string up again; here each varbind's OID octets are matched against the
// tree's own encodings and its value decoded as notification.ts and varbinds.ts would. Anything
// this reader is not sure to answer exactly as net-snmp's path would (another version or PDU,
// an unknown community, OID or value type, another MIB's notification, odd encodings, a
// malformed message) is null: the caller hands the datagram to net-snmp, which decides, counts
// and logs it as before. Pure; never throws on any input.
import { BER, readTlv, type Tlv } from "../snmp/ber-tlv";
import { OBJECTS, NOTIFICATIONS, type NotificationDef, type ObjectDef, type OidTree } from "../snmp/oid-tree";
import type { ObjectValues } from "../snmp/state-objects";
import { decodeOctets, decodeValue } from "../snmp/varbinds";
import { mibName } from "./mib-names";
import type { Notification } from "./notification";

const { SEQUENCE, INTEGER, OCTET_STRING, OBJECT_IDENTIFIER } = BER;
const COUNTER = 0x41;
const GAUGE = 0x42;
const TIME_TICKS = 0x43;
const TRAP_V2 = 0xa7;
const INFORM = 0xa6;
const RESPONSE = 0xa2;
const VERSION_2C = 1;

/** The BER content octets of a dotted OID. */
export function oidOctets(oid: string): Buffer {
  const arcs = oid.split(".").map(Number);
  const out: number[] = [];
  const push = (n: number) => {
    const groups = [n % 128];
    for (let rest = Math.floor(n / 128); rest > 0; rest = Math.floor(rest / 128)) groups.unshift((rest % 128) | 0x80);
    out.push(...groups);
  };
  push(arcs[0] * 40 + arcs[1]);
  for (const arc of arcs.slice(2)) push(arc);
  return Buffer.from(out);
}

interface Trap {
  def: NotificationDef;
  oid: string;
  name: string | null;
}

/** The tree's OIDs as octets, to match varbinds against without building strings. */
interface Table {
  sysUpTime: Buffer;
  snmpTrapOid: Buffer;
  /** edgeAgentObjects; an object's varbind is this, its sub-identifier and an optional .0. */
  objects: Buffer;
  objectById: Map<number, ObjectDef>;
  notifications: Buffer;
  trapById: Map<number, Trap>;
}

const tables = new WeakMap<OidTree, Table | null>();

/**
 * net-snmp renders an OID's first octet X as `floor(X/40).(X%40)`, which is the standard reading
 * only when the second arc is below 40: for any other root the octets would not name the same
 * string, so such a tree is left to net-snmp entirely.
 */
function tableOf(tree: OidTree): Table | null {
  let table = tables.get(tree);
  if (table === undefined) {
    const second = Number(tree.base.split(".")[1]);
    table =
      second < 40
        ? {
            sysUpTime: oidOctets("1.3.6.1.2.1.1.3.0"),
            snmpTrapOid: oidOctets("1.3.6.1.6.3.1.1.4.1.0"),
            objects: oidOctets(tree.objects),
            objectById: new Map(OBJECTS.map((o) => [o.id, o])),
            notifications: oidOctets(tree.notifications),
            trapById: new Map(
              NOTIFICATIONS.map((n) => {
                const oid = `${tree.notifications}.${n.id}`;
                return [n.id, { def: n, oid, name: mibName(oid, tree) }];
              }),
            ),
          }
        : null;
    tables.set(tree, table);
  }
  return table;
}

function equalAt(buf: Buffer, start: number, end: number, want: Buffer): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false;
  return true;
}

/**
 * The sub-identifier that follows `prefix` in the OID octets [start, end), followed by nothing
 * (or by one 0 arc when `instance`), or -1. Only minimal encodings: another spelling of the same
 * number is left to net-snmp.
 */
function arcAfter(buf: Buffer, start: number, end: number, prefix: Buffer, instance: boolean): number {
  const at = start + prefix.length;
  if (at >= end || !equalAt(buf, start, at, prefix) || buf[at] === 0x80) return -1;
  let value = 0;
  let i = at;
  for (;;) {
    // At most four octets (28 bits): EDGE-AGENT-MIB's sub-identifiers are small.
    if (i >= end || i - at >= 4) return -1;
    value = value * 128 + (buf[i] & 0x7f);
    if ((buf[i] & 0x80) === 0) break;
    i++;
  }
  const rest = end - i - 1;
  return rest === 0 || (instance && rest === 1 && buf[i + 1] === 0) ? value : -1;
}

/** An INTEGER-like content as net-snmp reads it (two's complement, big-endian); NaN past six octets. */
function integer(buf: Buffer, start: number, end: number): number {
  const n = end - start;
  if (n < 1 || n > 6) return NaN;
  let value = buf.readInt8(start);
  for (let i = start + 1; i < end; i++) value = value * 256 + buf[i];
  return value;
}

/** The octets a length takes in net-snmp's encoding (the shortest form) with its tag. */
function headerSize(length: number): number {
  return length < 0x80 ? 2 : length < 0x100 ? 3 : length < 0x10000 ? 4 : 5;
}

/** Whether the element read at `offset` has its length in the shortest form. */
function canonical(offset: number, t: Tlv): boolean {
  return t.start - offset === headerSize(t.end - t.start);
}

/** An INTEGER in its shortest form, as net-snmp writes one (so echoing it answers what net-snmp would). */
function minimal(buf: Buffer, start: number, end: number): boolean {
  if (end - start < 2) return true;
  const first = buf[start];
  const high = buf[start + 1] & 0x80;
  return !(first === 0 && !high) && !(first === 0xff && high);
}

export interface DirectNotification {
  notification: Notification;
  /** For an inform: the acknowledgement net-snmp would send (the same message as a Response-PDU). */
  response: Buffer | null;
}

/** The element at `offset` when its tag is `tag` (see readTlv). */
function expect(buf: Buffer, offset: number, limit: number, tag: number, into: Tlv): boolean {
  return offset < limit && buf[offset] === tag && readTlv(buf, offset, limit, into);
}

// Reused for every element of every datagram (the reader runs to completion synchronously).
const message: Tlv = { tag: 0, start: 0, end: 0 };
const element: Tlv = { tag: 0, start: 0, end: 0 };
const varbind: Tlv = { tag: 0, start: 0, end: 0 };
const oid: Tlv = { tag: 0, start: 0, end: 0 };
const value: Tlv = { tag: 0, start: 0, end: 0 };

/**
 * The notification in `buf` when it is a v2c trap or inform of EDGE-AGENT-MIB from one of
 * `communities` (their UTF-8 octets beside their text), else null: net-snmp's to handle.
 */
export function readV2cNotification(buf: Buffer, source: { address: string; port: number }, communities: ReadonlyArray<{ text: string; octets: Buffer }>, tree: OidTree): DirectNotification | null {
  const table = tableOf(tree);
  if (!table) return null;
  // The whole datagram is one message, every length agreeing with what it holds: net-snmp reads
  // on past a declared length, so only an exact fit is sure to be read the same way.
  if (!expect(buf, 0, buf.length, SEQUENCE, message) || message.end !== buf.length) return null;
  if (!expect(buf, message.start, buf.length, INTEGER, element) || element.end - element.start !== 1 || buf[element.start] !== VERSION_2C) return null;
  const versionHeader = element.start - message.start;
  const communityAt = element.end;
  if (!expect(buf, communityAt, buf.length, OCTET_STRING, element)) return null;
  let community: string | null = null;
  for (const c of communities) if (equalAt(buf, element.start, element.end, c.octets)) community = c.text;
  if (community === null) return null;
  const communityHeader = element.start - communityAt;
  const communityLength = element.end - element.start;
  const pduAt = element.end;
  if (!readTlv(buf, pduAt, buf.length, element) || (element.tag !== TRAP_V2 && element.tag !== INFORM) || element.end !== buf.length) return null;
  // An inform is acknowledged with the same message as a Response-PDU, which net-snmp encodes
  // anew: echoing the octets answers the same only when they are encoded as net-snmp would
  // (shortest lengths and integers, error-status and error-index 0, values it can re-encode).
  const inform = element.tag === INFORM;
  if (inform && (!canonical(0, message) || versionHeader !== 2 || communityHeader !== headerSize(communityLength) || !canonical(pduAt, element))) return null;
  // request-id, error-status, error-index.
  let at = element.start;
  for (let i = 0; i < 3; i++) {
    if (!expect(buf, at, buf.length, INTEGER, element) || element.end - element.start < 1 || element.end - element.start > 4) return null;
    if (inform && (!canonical(at, element) || !minimal(buf, element.start, element.end) || (i > 0 && buf[element.start] !== 0))) return null;
    at = element.end;
  }
  if (!expect(buf, at, buf.length, SEQUENCE, element) || element.end !== buf.length || (inform && !canonical(at, element))) return null;
  let upTime: number | null = null;
  let trap: Trap | null = null;
  const values: ObjectValues = {};
  for (at = element.start; at < buf.length; at = varbind.end) {
    if (!expect(buf, at, buf.length, SEQUENCE, varbind)) return null;
    if (!expect(buf, varbind.start, varbind.end, OBJECT_IDENTIFIER, oid)) return null;
    if (!readTlv(buf, oid.end, varbind.end, value) || value.end !== varbind.end) return null;
    if (inform && (!canonical(at, varbind) || !canonical(varbind.start, oid) || !canonical(oid.end, value))) return null;
    let raw: number | null;
    if (value.tag === INTEGER || value.tag === GAUGE || value.tag === TIME_TICKS || value.tag === COUNTER) {
      raw = integer(buf, value.start, value.end);
      // What net-snmp cannot read as a number is its to refuse.
      if (Number.isNaN(raw)) return null;
      // net-snmp re-encodes an INTEGER only within 32 bits, and the unsigned types from their value.
      if (inform && (!minimal(buf, value.start, value.end) || (value.tag === INTEGER ? value.end - value.start > 4 : raw < 0 || raw > 0xffffffff))) return null;
      // The unsigned types as net-snmp reads them: the signed value, taken modulo 2^32.
      if (value.tag !== INTEGER) raw = raw >>> 0;
    } else if (value.tag === OCTET_STRING) raw = null;
    else if (value.tag === OBJECT_IDENTIFIER) {
      // Only snmpTrapOID.0 naming one of the tree's notifications.
      if (trap !== null || !equalAt(buf, oid.start, oid.end, table.snmpTrapOid)) return null;
      trap = table.trapById.get(arcAfter(buf, value.start, value.end, table.notifications, false)) ?? null;
      if (trap === null) return null;
      continue;
    } else return null;
    if (equalAt(buf, oid.start, oid.end, table.sysUpTime)) {
      if (upTime !== null || typeof raw !== "number") return null;
      upTime = raw;
      continue;
    }
    const def = table.objectById.get(arcAfter(buf, oid.start, oid.end, table.objects, true));
    if (!def) return null;
    // An OCTET STRING is read in place (raw null), without a Buffer for it.
    const decoded = raw === null ? decodeOctets(def, buf, value.start, value.end) : decodeValue(def, raw);
    if (decoded !== null) values[def.name] = decoded;
  }
  if (trap === null) return null;
  let response: Buffer | null = null;
  if (inform) {
    response = Buffer.from(buf);
    response[pduAt] = RESPONSE;
  }
  return {
    notification: {
      version: "2c",
      pdu: inform ? "inform" : "trap",
      source: { address: source.address, port: source.port },
      community: community || null,
      user: null,
      trapOid: trap.oid,
      trapName: trap.name,
      upTimeCentiseconds: upTime,
      varbinds: [],
      edgeAgent: { def: trap.def, values },
    },
    response,
  };
}
