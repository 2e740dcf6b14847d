// Turns a configured SNMPv3 user into net-snmp's user object (security level from which keys
// are set). Shared by the snmpd probe, the notifier and the receiver.
import snmp, { type User } from "net-snmp";
import type { SnmpUser } from "../config";

export function toNetSnmpUser(user: SnmpUser): User {
  const hasPriv = Boolean(user.privProtocol && user.privKey);
  return {
    name: user.name,
    level: hasPriv ? snmp.SecurityLevel.authPriv : snmp.SecurityLevel.authNoPriv,
    authProtocol: snmp.AuthProtocols[user.authProtocol],
    authKey: user.authKey,
    ...(hasPriv ? { privProtocol: snmp.PrivProtocols[user.privProtocol!], privKey: user.privKey! } : {}),
  };
}

/**
 * An engine ID for v2c sessions, which never send one. Without it net-snmp draws a random one
 * from node:crypto for every session, which makes a v2c-only daemon load the crypto modules (the
 * package loads them on first use: scripts/build-shims/crypto.js).
 */
export const V2C_ENGINE_ID = "8000b983800000000000000000000000ed";
