// Renders EDGE-AGENT-MIB (SMIv2) from the OID tree in oid-tree.ts, for any base OID. Pure: the
// shipped packaging/mibs/EDGE-AGENT-MIB.txt is this function's output for the default base.
import { DEFAULT_BASE_OID, NOTIFICATIONS, NOTIFICATION_OBJECTS, OBJECTS, oidTree, isValidOid, type ObjectDef, type Syntax } from "./oid-tree";

/** The module's revisions, newest first: one more whenever the tree changes meaning. */
const REVISIONS: ReadonlyArray<{ at: string; description: string }> = [
  { at: "202612040000Z", description: "Added edgeAgentPolicyScrapeNodeExporter (object 25) and edgeAgentPolicyPollSnmpd (object 26), the verdicts of the node's tailscaled packet filter on the scraper's tcp/9100 and udp/161, which every notification now carries last, and edgeAgentPolicyChanged (notification 10)." },
  { at: "202612030000Z", description: "Added edgeAgentFirewallForwardIpv4 (object 24), the IPv4 forward verdict of a router, which every notification now carries last." },
  { at: "202611280000Z", description: "First version." },
];
/** Fixed, so the output is stable. */
const LAST_UPDATED = REVISIONS[0].at;

/**
 * Named nodes of SNMPv2-SMI a re-rooted module may hang under. `iso` is built into every SMI
 * parser; the others are imported from SNMPv2-SMI.
 */
const KNOWN_PARENTS: ReadonlyArray<{ name: string; oid: string; imported: boolean }> = [
  { name: "enterprises", oid: "1.3.6.1.4.1", imported: true },
  { name: "private", oid: "1.3.6.1.4", imported: true },
  { name: "experimental", oid: "1.3.6.1.3", imported: true },
  { name: "mib-2", oid: "1.3.6.1.2.1", imported: true },
  { name: "mgmt", oid: "1.3.6.1.2", imported: true },
  { name: "internet", oid: "1.3.6.1", imported: true },
  { name: "iso", oid: "1", imported: false },
];

/** A base OID the MIB cannot be rooted at, with the reason (the CLI exits 2 on it). */
export class BaseOidError extends Error {}

interface Rooting {
  /** The descriptor the module identity hangs under and the sub-identifier below it. */
  parent: string;
  subId: string;
  /** OBJECT IDENTIFIER lines for the arcs between a known node and the module identity. */
  arcs: string[];
  imports: string[];
}

/** Where the module hangs: the nearest named SNMPv2-SMI node, plus a chain of arcs below it. */
export function rootingFor(base: string): Rooting {
  if (!isValidOid(base)) throw new BaseOidError(`"${base}" is not an OID (expected dotted numbers like 1.3.6.1.4.1.99999.1)`);
  const isUnder = (oid: string, node: string) => oid.startsWith(`${node}.`);
  const collides = KNOWN_PARENTS.find((k) => k.oid === base) ?? KNOWN_PARENTS.find((k) => isUnder(k.oid, base));
  if (collides) throw new BaseOidError(`"${base}" is ${collides.oid === base ? "" : "above "}the standard node ${collides.name} (${collides.oid}); pick an arc below it, like 1.3.6.1.4.1.<your PEN>.1`);
  const parent = KNOWN_PARENTS.find((k) => isUnder(base, k.oid));
  if (!parent) throw new BaseOidError(`"${base}" is not under iso (1); pick an arc like 1.3.6.1.4.1.<your PEN>.1`);
  const rest = base.slice(parent.oid.length + 1).split(".");
  const arcs: string[] = [];
  let above = parent.name;
  for (let i = 0; i < rest.length - 1; i++) {
    const name = `edgeAgentArc${i + 1}`;
    arcs.push(`${name.padEnd(24)} OBJECT IDENTIFIER ::= { ${above} ${rest[i]} }`);
    above = name;
  }
  return { parent: above, subId: rest[rest.length - 1], arcs, imports: parent.imported ? [parent.name] : [] };
}

/** A quoted SMI text, wrapped to fit 72 columns at the given indent. */
function text(value: string, indent: string): string {
  const words = value.replace(/"/g, "'").split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line && indent.length + line.length + word.length + 1 > 70) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return `"${lines.join(`\n${indent} `)}"`;
}

function syntaxText(syntax: Syntax): string {
  switch (syntax.kind) {
    case "DisplayString":
      return syntax.size ? `DisplayString (SIZE (${syntax.size[0]}..${syntax.size[1]}))` : "DisplayString";
    case "TruthValue":
    case "Unsigned32":
    case "DateAndTime":
      return syntax.kind;
    case "Enum": {
      const entries = Object.entries(syntax.values).map(([label, n]) => `${label}(${n})`);
      return `INTEGER {\n                    ${entries.join(",\n                    ")}\n                }`;
    }
  }
}

function objectType(def: ObjectDef): string {
  return [
    `${def.name} OBJECT-TYPE`,
    `    SYNTAX      ${syntaxText(def.syntax)}`,
    `    MAX-ACCESS  ${def.access}`,
    `    STATUS      current`,
    `    DESCRIPTION`,
    `        ${text(def.description, "        ")}`,
    `    ::= { edgeAgentObjects ${def.id} }`,
  ].join("\n");
}

function list(names: readonly string[], indent: string): string {
  return `{\n${indent}    ${names.join(`,\n${indent}    `)}\n${indent}}`;
}

/** The whole MIB module text for the tree rooted at `base`. */
export function renderMib(base?: string): string {
  const rooting = rootingFor(base ?? DEFAULT_BASE_OID);
  const tree = oidTree(base ?? DEFAULT_BASE_OID);
  const stateObjects = OBJECTS.filter((o) => o.access === "read-only").map((o) => o.name);
  const eventObjects = OBJECTS.filter((o) => o.access === "accessible-for-notify").map((o) => o.name);
  const usesUnsigned = OBJECTS.some((o) => o.syntax.kind === "Unsigned32");
  const smiImports = ["MODULE-IDENTITY", "OBJECT-TYPE", "NOTIFICATION-TYPE", ...(usesUnsigned ? ["Unsigned32"] : []), ...rooting.imports];
  const out: string[] = [];
  out.push(
    "-- EDGE-AGENT-MIB: generated by `edge-agent mib` from the agent's OID tree; do not edit.",
    `-- Root: ${tree.base}${tree.base === DEFAULT_BASE_OID ? " (the default experimental arc; edge-agent mib with the base-oid option re-roots it)" : ""}`,
    "",
    "EDGE-AGENT-MIB DEFINITIONS ::= BEGIN",
    "",
    "IMPORTS",
    `    ${smiImports.join(", ")}`,
    "        FROM SNMPv2-SMI",
    "    DisplayString, TruthValue, DateAndTime",
    "        FROM SNMPv2-TC",
    "    MODULE-COMPLIANCE, OBJECT-GROUP, NOTIFICATION-GROUP",
    "        FROM SNMPv2-CONF;",
    "",
    "edgeAgentMIB MODULE-IDENTITY",
    `    LAST-UPDATED "${LAST_UPDATED}"`,
    `    ORGANIZATION "edge-agent"`,
    `    CONTACT-INFO`,
    `        ${text("The edge-agent project; see its README and docs/mib.md.", "        ")}`,
    "    DESCRIPTION",
    `        ${text(
      "State of a host on a Tailscale tailnet as seen by edge-agent: its global IPv6 /64, tailnet identity and tags, the path to the scraper, whether node-exporter and snmpd answer, and the local firewall's verdicts on tailscaled's UDP port. Notifications tell the scraper what changed; each carries every object plus a sequence number and the event time.",
      "        ",
    )}`,
    ...REVISIONS.flatMap((r) => [`    REVISION "${r.at}"`, "    DESCRIPTION", `        ${text(r.description, "        ")}`]),
    `    ::= { ${rooting.parent} ${rooting.subId} }`,
    "",
  );
  if (rooting.arcs.length) out.push("-- Arcs from SNMPv2-SMI down to the module's root.", ...rooting.arcs, "");
  out.push(
    `edgeAgentNotifications   OBJECT IDENTIFIER ::= { edgeAgentMIB ${tree.notifications.split(".").pop()} }`,
    `edgeAgentObjects         OBJECT IDENTIFIER ::= { edgeAgentMIB ${tree.objects.split(".").pop()} }`,
    `edgeAgentConformance     OBJECT IDENTIFIER ::= { edgeAgentMIB ${tree.conformance.split(".").pop()} }`,
    "",
    "-- Objects: scalars (instance .0), served over AgentX and carried by every notification.",
    "",
  );
  for (const def of OBJECTS) out.push(objectType(def), "");
  out.push("-- Notifications: each carries every object above.", "");
  for (const n of NOTIFICATIONS) {
    out.push(
      [
        `${n.name} NOTIFICATION-TYPE`,
        `    OBJECTS     ${list(NOTIFICATION_OBJECTS, "    ")}`,
        "    STATUS      current",
        "    DESCRIPTION",
        `        ${text(n.description, "        ")}`,
        `    ::= { edgeAgentNotifications ${n.id} }`,
      ].join("\n"),
      "",
    );
  }
  out.push(
    "-- Conformance",
    "",
    "edgeAgentCompliances     OBJECT IDENTIFIER ::= { edgeAgentConformance 1 }",
    "edgeAgentGroups          OBJECT IDENTIFIER ::= { edgeAgentConformance 2 }",
    "",
    [
      "edgeAgentCompliance MODULE-COMPLIANCE",
      "    STATUS      current",
      "    DESCRIPTION",
      `        ${text("An edge-agent serves every state object and sends every notification.", "        ")}`,
      "    MODULE      -- this module",
      `        MANDATORY-GROUPS ${list(["edgeAgentStateGroup", "edgeAgentEventGroup", "edgeAgentNotificationGroup"], "        ")}`,
      "    ::= { edgeAgentCompliances 1 }",
    ].join("\n"),
    "",
    [
      "edgeAgentStateGroup OBJECT-GROUP",
      `    OBJECTS     ${list(stateObjects, "    ")}`,
      "    STATUS      current",
      "    DESCRIPTION",
      `        ${text("The node's state, readable over SNMP and carried by notifications.", "        ")}`,
      "    ::= { edgeAgentGroups 1 }",
    ].join("\n"),
    "",
    [
      "edgeAgentEventGroup OBJECT-GROUP",
      `    OBJECTS     ${list(eventObjects, "    ")}`,
      "    STATUS      current",
      "    DESCRIPTION",
      `        ${text("What a notification says about its event: sequence, time, summary, service.", "        ")}`,
      "    ::= { edgeAgentGroups 2 }",
    ].join("\n"),
    "",
    [
      "edgeAgentNotificationGroup NOTIFICATION-GROUP",
      `    NOTIFICATIONS ${list(NOTIFICATIONS.map((n) => n.name), "    ")}`,
      "    STATUS      current",
      "    DESCRIPTION",
      `        ${text("The notifications an edge-agent sends.", "        ")}`,
      "    ::= { edgeAgentGroups 3 }",
    ].join("\n"),
    "",
    "END",
    "",
  );
  return out.join("\n");
}
