// EDGE-AGENT-MIB's notifications -> an snmptt.conf fragment: one EVENT per notification, its
// FORMAT naming the node and the agent's one-line summary by varbind position, which the OID
// tree fixes (every notification carries NOTIFICATION_OBJECTS in that order). Pure.
import type { EventKind } from "../../agent/diff";
import { NOTIFICATIONS, NOTIFICATION_OBJECTS, oidTree } from "../../agent/snmp/oid-tree";

/** snmptt's severity per event; a Record, so a new notification cannot go without one. */
const SEVERITY: Record<EventKind, string> = {
  agentStarted: "Normal",
  heartbeat: "Normal",
  addressChanged: "Warning",
  tailnetChanged: "Warning",
  pathChanged: "Warning",
  serviceDown: "Major",
  serviceUp: "Normal",
  firewallChanged: "Warning",
  policyChanged: "Warning",
  test: "Normal",
};

/** snmptt's $n: the n-th varbind after sysUpTime.0 and snmpTrapOID.0. */
function position(object: string): number {
  const i = NOTIFICATION_OBJECTS.indexOf(object);
  if (i < 0) throw new Error(`${object} is not in every notification`);
  return i + 1;
}

export function snmpttConf(): string {
  const tree = oidTree();
  const node = `$${position("edgeAgentTailnetName")}`;
  const summary = `$${position("edgeAgentEventSummary")}`;
  const lines = [
    "# snmptt.conf fragment for EDGE-AGENT-MIB, written by scripts/scraper-files/main.ts from the",
    "# agent's OID tree; do not edit. Add its path to snmptt_conf_files in snmptt.ini. snmptrapd must",
    "# hand snmptt numeric OIDs (snmptrapd -On, or `[snmp] printNumericOids yes` in snmptrapd.conf).",
    "",
  ];
  for (const n of NOTIFICATIONS) {
    lines.push(
      `EVENT ${n.name} .${tree.notificationOid(n.event)} "edge-agent" ${SEVERITY[n.event]}`,
      `FORMAT ${n.name} from ${node} ($A): ${summary}`,
      "SDESC",
      n.description,
      "EDESC",
      "",
    );
  }
  return lines.join("\n");
}
