// A notification as net-snmp's receiver hands it over -> what the receiver works with: version,
// trap or inform, who sent it, the notification OID and name, and every varbind rendered for the
// log. v1 traps are mapped to their v2 notification OID (RFC 3584 section 3.1). Pure.
import snmp, { type Varbind } from "net-snmp";
import type { NotificationDef, OidTree } from "../snmp/oid-tree";
import { fromVarbinds } from "../snmp/varbinds";
import type { ObjectValues } from "../snmp/state-objects";
import { mibName } from "./mib-names";

const SYS_UPTIME = "1.3.6.1.2.1.1.3.0";
const SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0";
const SNMP_TRAPS = "1.3.6.1.6.3.1.1.5";

export interface Source {
  address: string;
  port: number;
}

export interface RenderedVarbind {
  oid: string;
  name: string | null;
  type: string;
  value: string | number | null;
}

export interface Notification {
  version: "1" | "2c" | "3";
  pdu: "trap" | "inform";
  source: Source;
  /** The v2c community or the v3 user it authenticated with (never logged for communities). */
  community: string | null;
  user: string | null;
  trapOid: string | null;
  trapName: string | null;
  upTimeCentiseconds: number | null;
  varbinds: RenderedVarbind[];
  /** Set when the notification is one of EDGE-AGENT-MIB's: its definition and object values. */
  edgeAgent: { def: NotificationDef; values: ObjectValues } | null;
}

function typeName(type: number | undefined): string {
  return (type !== undefined && (snmp.ObjectType as Record<number, string>)[type]) || `type-${type}`;
}

function printable(buf: Buffer): boolean {
  for (const byte of buf) if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) || byte === 0x7f) return false;
  // Reject invalid UTF-8 too: round-tripping must give back the same bytes.
  return Buffer.from(buf.toString("utf8"), "utf8").equals(buf);
}

export function renderValue(vb: Varbind): string | number | null {
  const value = vb.value;
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) {
    if (vb.type === snmp.ObjectType.Counter64) return value.length > 0 ? BigInt(`0x${value.toString("hex")}`).toString() : "0";
    return printable(value) ? value.toString("utf8") : `0x${value.toString("hex")}`;
  }
  if (typeof value === "number" || typeof value === "string") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "bigint") return value.toString();
  return String(value);
}

function v1TrapOid(pdu: { enterprise: string; generic: number; specific: number }): string {
  // RFC 3584 3.1: generic traps map under snmpTraps, enterprise-specific ones to enterprise.0.specific.
  return pdu.generic >= 0 && pdu.generic < 6 ? `${SNMP_TRAPS}.${pdu.generic + 1}` : `${pdu.enterprise}.0.${pdu.specific}`;
}

/** Turns net-snmp's receiver callback data into a Notification; throws on a PDU it cannot use. */
export function toNotification(data: { pdu: any; rinfo: { address: string; port: number } }, tree: OidTree): Notification {
  const pdu = data.pdu;
  // net-snmp names the v3 user or the community (includeAuthentication); the v1 Trap PDU is v1-only.
  const version = typeof pdu.user === "string" ? "3" : pdu.type === snmp.PduType.Trap ? "1" : "2c";
  const raw: Varbind[] = Array.isArray(pdu.varbinds) ? pdu.varbinds : [];
  let trapOid: string | null = null;
  let upTime: number | null = null;
  let varbinds = raw;
  let kind: "trap" | "inform";
  if (pdu.type === snmp.PduType.Trap) {
    kind = "trap";
    trapOid = v1TrapOid(pdu);
    upTime = typeof pdu.upTime === "number" ? pdu.upTime : null;
  } else if (pdu.type === snmp.PduType.TrapV2 || pdu.type === snmp.PduType.InformRequest) {
    kind = pdu.type === snmp.PduType.TrapV2 ? "trap" : "inform";
    // RFC 3416: the first two varbinds are sysUpTime.0 and snmpTrapOID.0; be lenient about order.
    const rest: Varbind[] = [];
    for (const vb of raw) {
      if (vb.oid === SYS_UPTIME && upTime === null && typeof vb.value === "number") upTime = vb.value;
      else if (vb.oid === SNMP_TRAP_OID && trapOid === null && typeof vb.value === "string") trapOid = vb.value;
      else rest.push(vb);
    }
    varbinds = rest;
  } else {
    throw new Error(`unexpected PDU type ${pdu.type}`);
  }
  let edgeAgent: Notification["edgeAgent"] = null;
  if (trapOid) {
    const named = tree.nameOf(trapOid);
    if (named && named.kind === "notification") edgeAgent = { def: named.def as NotificationDef, values: fromVarbinds(tree, varbinds) };
  }
  return {
    version,
    pdu: kind,
    source: { address: data.rinfo.address, port: data.rinfo.port },
    community: typeof pdu.community === "string" ? pdu.community : null,
    user: typeof pdu.user === "string" ? pdu.user : null,
    trapOid,
    trapName: trapOid ? mibName(trapOid, tree) : null,
    upTimeCentiseconds: upTime,
    // EDGE-AGENT-MIB notifications are logged by their decoded objects; only others need this.
    varbinds: edgeAgent ? [] : varbinds.map((vb) => ({ oid: vb.oid, name: mibName(vb.oid, tree), type: typeName(vb.type), value: renderValue(vb) })),
    edgeAgent,
  };
}
