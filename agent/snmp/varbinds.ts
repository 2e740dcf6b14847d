// Logical object values <-> SNMP varbinds (types and encodings per the MIB's syntaxes):
// DisplayString as UTF-8 octets, TruthValue as true(1)/false(2), enums by number,
// DateAndTime as the 8-octet UTC form of SNMPv2-TC.
import snmp, { type Varbind } from "net-snmp";
import { OBJECTS, type ObjectDef, type OidTree } from "./oid-tree";
import type { ObjectValues } from "./state-objects";
import { isoTime } from "../iso-time";

export function encodeDateAndTime(iso: string): Buffer {
  const d = new Date(iso);
  const b = Buffer.alloc(11);
  b.writeUInt16BE(d.getUTCFullYear(), 0);
  b[2] = d.getUTCMonth() + 1;
  b[3] = d.getUTCDate();
  b[4] = d.getUTCHours();
  b[5] = d.getUTCMinutes();
  b[6] = d.getUTCSeconds();
  b[7] = Math.floor(d.getUTCMilliseconds() / 100);
  b[8] = "+".charCodeAt(0);
  b[9] = 0;
  b[10] = 0;
  return b;
}

/** The DateAndTime in buf's octets from start to end (all of buf by default). */
export function decodeDateAndTime(buf: Buffer, start = 0, end = buf.length): string | null {
  const length = end - start;
  if (length !== 8 && length !== 11) return null;
  const at = (i: number) => buf[start + i];
  const utcMs = Date.UTC(at(0) * 256 + at(1), at(2) - 1, at(3), at(4), at(5), at(6), at(7) * 100);
  let offsetMin = 0;
  if (length === 11) offsetMin = (at(9) * 60 + at(10)) * (at(8) === "-".charCodeAt(0) ? -1 : 1);
  const ms = utcMs - offsetMin * 60_000;
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? isoTime(ms) : null;
}

/** The longest prefix of `text` that fits `max` octets of UTF-8 without splitting a character. */
export function utf8Prefix(text: string, max: number): Buffer {
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= max) return buf;
  let end = max;
  // A continuation octet (10xxxxxx) at the cut means its character began before it.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.subarray(0, end);
}

export function encodeValue(def: ObjectDef, value: string | number | boolean): { type: number; value: unknown } {
  switch (def.syntax.kind) {
    case "DisplayString": {
      return { type: snmp.ObjectType.OctetString, value: utf8Prefix(String(value), def.syntax.size?.[1] ?? 255) };
    }
    case "TruthValue":
      return { type: snmp.ObjectType.Integer, value: value ? 1 : 2 };
    case "Unsigned32":
      return { type: snmp.ObjectType.Gauge, value: Math.max(0, Math.min(4294967295, Math.floor(Number(value)))) };
    case "DateAndTime":
      return { type: snmp.ObjectType.OctetString, value: encodeDateAndTime(String(value)) };
    case "Enum": {
      const number = def.syntax.values[String(value)];
      return { type: snmp.ObjectType.Integer, value: number ?? 0 };
    }
  }
}

export function decodeValue(def: ObjectDef, raw: unknown): string | number | boolean | null {
  if (Buffer.isBuffer(raw)) return decodeOctets(def, raw, 0, raw.length);
  switch (def.syntax.kind) {
    case "DisplayString":
      return typeof raw === "string" ? raw : null;
    case "TruthValue":
      return raw === 1 ? true : raw === 2 ? false : null;
    case "Unsigned32":
      return typeof raw === "number" ? raw : null;
    case "DateAndTime":
      return null;
    case "Enum":
      return typeof raw === "number" ? (enumLabels(def).get(raw) ?? null) : null;
  }
}

/** An OCTET STRING value (buf's octets from start to end, read in place) as decodeValue reads it. */
export function decodeOctets(def: ObjectDef, buf: Buffer, start: number, end: number): string | null {
  switch (def.syntax.kind) {
    case "DisplayString":
      return buf.toString("utf8", start, end);
    case "DateAndTime":
      return decodeDateAndTime(buf, start, end);
    default:
      return null;
  }
}

/** number -> label of an Enum object, built once per object: the receiver decodes every notification. */
const labelsByDef = new WeakMap<ObjectDef, Map<number, string>>();
function enumLabels(def: ObjectDef): Map<number, string> {
  let labels = labelsByDef.get(def);
  if (!labels) {
    labels = new Map();
    if (def.syntax.kind === "Enum") for (const [label, n] of Object.entries(def.syntax.values)) if (!labels.has(n)) labels.set(n, label);
    labelsByDef.set(def, labels);
  }
  return labels;
}

/** Notification varbinds (without sysUpTime/snmpTrapOID, which net-snmp adds). */
export function toVarbinds(tree: OidTree, values: ObjectValues): Varbind[] {
  const out: Varbind[] = [];
  for (const def of OBJECTS) {
    if (!(def.name in values)) continue;
    const { type, value } = encodeValue(def, values[def.name]);
    out.push({ oid: `${tree.objectOid(def.name)}.0`, type, value });
  }
  return out;
}

/** Varbinds from a received notification -> the logical values it carries (unknown OIDs left out). */
export function fromVarbinds(tree: OidTree, varbinds: Varbind[]): ObjectValues {
  const out: ObjectValues = {};
  for (const vb of varbinds) {
    const named = tree.nameOf(vb.oid);
    if (!named || named.kind !== "object") continue;
    const value = decodeValue(named.def as ObjectDef, vb.value);
    if (value !== null) out[named.def.name] = value;
  }
  return out;
}
