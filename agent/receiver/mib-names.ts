// OID -> MIB name for the traps a scraper meets: SNMPv2-MIB's standard traps and objects, IF-MIB's
// link traps, NET-SNMP-AGENT-MIB's agent traps and EDGE-AGENT-MIB (from the one OID tree).
// A small table, not a MIB loader: names are for people reading the log, the OID is always kept.
import type { OidTree } from "../snmp/oid-tree";

const KNOWN: Record<string, string> = {
  "1.3.6.1.2.1.1.1": "SNMPv2-MIB::sysDescr",
  "1.3.6.1.2.1.1.2": "SNMPv2-MIB::sysObjectID",
  "1.3.6.1.2.1.1.3": "SNMPv2-MIB::sysUpTime",
  "1.3.6.1.2.1.1.4": "SNMPv2-MIB::sysContact",
  "1.3.6.1.2.1.1.5": "SNMPv2-MIB::sysName",
  "1.3.6.1.2.1.1.6": "SNMPv2-MIB::sysLocation",
  "1.3.6.1.6.3.1.1.4.1": "SNMPv2-MIB::snmpTrapOID",
  "1.3.6.1.6.3.1.1.4.3": "SNMPv2-MIB::snmpTrapEnterprise",
  "1.3.6.1.6.3.1.1.5.1": "SNMPv2-MIB::coldStart",
  "1.3.6.1.6.3.1.1.5.2": "SNMPv2-MIB::warmStart",
  "1.3.6.1.6.3.1.1.5.3": "IF-MIB::linkDown",
  "1.3.6.1.6.3.1.1.5.4": "IF-MIB::linkUp",
  "1.3.6.1.6.3.1.1.5.5": "SNMPv2-MIB::authenticationFailure",
  "1.3.6.1.6.3.18.1.3": "SNMP-COMMUNITY-MIB::snmpTrapAddress",
  "1.3.6.1.6.3.18.1.4": "SNMP-COMMUNITY-MIB::snmpTrapCommunity",
  "1.3.6.1.2.1.2.2.1.1": "IF-MIB::ifIndex",
  "1.3.6.1.2.1.2.2.1.2": "IF-MIB::ifDescr",
  "1.3.6.1.2.1.2.2.1.7": "IF-MIB::ifAdminStatus",
  "1.3.6.1.2.1.2.2.1.8": "IF-MIB::ifOperStatus",
  "1.3.6.1.2.1.31.1.1.1.1": "IF-MIB::ifName",
  "1.3.6.1.4.1.8072.4.0.1": "NET-SNMP-AGENT-MIB::nsNotifyStart",
  "1.3.6.1.4.1.8072.4.0.2": "NET-SNMP-AGENT-MIB::nsNotifyShutdown",
  "1.3.6.1.4.1.8072.4.0.3": "NET-SNMP-AGENT-MIB::nsNotifyRestart",
};

/**
 * "MODULE::name" plus the instance suffix (".0", ".2"), or null when no table entry is a prefix
 * of the OID. The longest matching prefix wins, so a column's instance keeps its index.
 */
export function mibName(oid: string, tree: OidTree): string | null {
  const edge = tree.nameOf(oid);
  if (edge) {
    const suffix = edge.kind === "object" && oid.endsWith(".0") ? ".0" : "";
    return `EDGE-AGENT-MIB::${edge.def.name}${suffix}`;
  }
  let prefix = oid;
  let suffix = "";
  for (;;) {
    const name = KNOWN[prefix];
    if (name) return name + suffix;
    const cut = prefix.lastIndexOf(".");
    if (cut <= 0) return null;
    suffix = prefix.slice(cut) + suffix;
    prefix = prefix.slice(0, cut);
  }
}

/**
 * The tree with `nameOf` answers remembered: every notification asks it once per varbind, and
 * the same few dozen OIDs come back all day. Bounded, so odd OIDs from strangers cannot grow it.
 */
export function withNameCache(tree: OidTree, maxEntries = 4096): OidTree {
  const cache = new Map<string, ReturnType<OidTree["nameOf"]>>();
  return {
    ...tree,
    nameOf: (oid) => {
      let named = cache.get(oid);
      if (named === undefined) {
        named = tree.nameOf(oid);
        if (cache.size >= maxEntries) cache.clear();
        cache.set(oid, named);
      }
      return named;
    },
  };
}
