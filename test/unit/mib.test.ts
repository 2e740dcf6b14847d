// The MIB text is rendered from the OID tree alone, and the shipped file is that rendering.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { BaseOidError, renderMib, rootingFor } from "../../agent/snmp/mib";
import { NOTIFICATIONS, NOTIFICATION_OBJECTS, OBJECTS, oidTree } from "../../agent/snmp/oid-tree";

describe("renderMib", () => {
  it("is what packaging/mibs/EDGE-AGENT-MIB.txt ships (regenerate: npx edge-agent mib > packaging/mibs/EDGE-AGENT-MIB.txt)", () => {
    const shipped = readFileSync(resolve(__dirname, "../../packaging/mibs/EDGE-AGENT-MIB.txt"), "utf8");
    expect(shipped).toBe(renderMib());
  });

  it("hangs the default module identity under experimental 9163", () => {
    const text = renderMib();
    expect(text).toMatch(/edgeAgentMIB MODULE-IDENTITY[\s\S]*?::= \{ experimental 9163 \}/);
    expect(text).toMatch(/MODULE-IDENTITY, OBJECT-TYPE, NOTIFICATION-TYPE, Unsigned32, experimental\s+FROM SNMPv2-SMI/);
  });

  it("declares every object of the tree with its sub-identifier and access", () => {
    const text = renderMib();
    for (const o of OBJECTS) {
      const block = new RegExp(`${o.name} OBJECT-TYPE[\\s\\S]*?MAX-ACCESS  ${o.access}[\\s\\S]*?::= \\{ edgeAgentObjects ${o.id} \\}`);
      expect(text).toMatch(block);
    }
  });

  it("declares every notification carrying every notification object", () => {
    const text = renderMib();
    for (const n of NOTIFICATIONS) {
      const start = text.indexOf(`${n.name} NOTIFICATION-TYPE`);
      expect(start).toBeGreaterThan(0);
      const block = text.slice(start, text.indexOf("::=", start));
      const listed = /OBJECTS\s+\{([^}]*)\}/.exec(block)![1].split(",").map((s) => s.trim());
      expect(listed).toEqual([...NOTIFICATION_OBJECTS]);
      expect(text.slice(start)).toMatch(new RegExp(`^[\\s\\S]*?::= \\{ edgeAgentNotifications ${n.id} \\}`));
    }
  });

  it("renders enums with the tree's numbers", () => {
    const text = renderMib();
    expect(text).toMatch(/edgeAgentScraperPath OBJECT-TYPE\s+SYNTAX\s+INTEGER \{\s+unknown\(0\),\s+direct\(1\),\s+relay\(2\),\s+peerRelay\(3\),\s+idle\(4\),\s+offline\(5\)\s+\}/);
  });

  it("re-roots under an enterprise number without touching the rest of the tree", () => {
    const text = renderMib("1.3.6.1.4.1.99999.1");
    expect(text).toContain("edgeAgentArc1            OBJECT IDENTIFIER ::= { enterprises 99999 }");
    expect(text).toMatch(/::= \{ edgeAgentArc1 1 \}/);
    expect(text).toMatch(/Unsigned32, enterprises\s+FROM SNMPv2-SMI/);
    expect(text).not.toContain("experimental");
    // Below the root the module is the same text.
    const body = (t: string) => t.slice(t.indexOf("edgeAgentNotifications   OBJECT IDENTIFIER"));
    expect(body(text)).toBe(body(renderMib()));
  });

  it("keeps descriptions free of quotes and comment markers that would break the module", () => {
    const text = renderMib();
    const descriptions = [...text.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    expect(descriptions.length).toBeGreaterThan(OBJECTS.length);
    for (const line of text.split("\n")) if (line.startsWith("--")) expect(line.slice(2)).not.toContain("--");
  });
});

describe("docs/mib.md", () => {
  it("lists every object and notification at its OID", () => {
    const doc = readFileSync(resolve(__dirname, "../../docs/mib.md"), "utf8");
    for (const o of OBJECTS) expect(doc).toMatch(new RegExp(`\\| B\\.1\\.${o.id} \\| ${o.name} \\|`));
    for (const n of NOTIFICATIONS) expect(doc).toMatch(new RegExp(`\\| B\\.0\\.${n.id} \\| ${n.name} \\|`));
  });
});

describe("rootingFor", () => {
  it("uses the nearest named node of SNMPv2-SMI and chains arcs below it", () => {
    expect(rootingFor("1.3.6.1.3.9163")).toEqual({ parent: "experimental", subId: "9163", arcs: [], imports: ["experimental"] });
    expect(rootingFor("1.3.6.1.4.1.99999")).toMatchObject({ parent: "enterprises", subId: "99999", arcs: [] });
    const deep = rootingFor("1.2.840.5");
    expect(deep.parent).toBe("edgeAgentArc2");
    expect(deep.imports).toEqual([]);
    expect(deep.arcs.map((a) => a.replace(/\s+/g, " "))).toEqual(["edgeAgentArc1 OBJECT IDENTIFIER ::= { iso 2 }", "edgeAgentArc2 OBJECT IDENTIFIER ::= { edgeAgentArc1 840 }"]);
  });

  it("refuses OIDs that are not OIDs, standard nodes or outside iso", () => {
    expect(() => rootingFor("1.3.6.1.4.1")).toThrow(BaseOidError);
    expect(() => rootingFor("1.3.6.1.4.1")).toThrow(/standard node enterprises/);
    expect(() => rootingFor("1.3.6")).toThrow(/above the standard node/);
    expect(() => rootingFor("2.25.1")).toThrow(/not under iso/);
    expect(() => rootingFor("1.3.6.1.4.1.x")).toThrow(/not an OID/);
  });

  it("agrees with oidTree on where the objects and notifications sit", () => {
    const tree = oidTree("1.3.6.1.4.1.99999.1");
    expect(tree.objectOid("edgeAgentHostName")).toBe("1.3.6.1.4.1.99999.1.1.1");
    expect(renderMib("1.3.6.1.4.1.99999.1")).toContain(`edgeAgentObjects         OBJECT IDENTIFIER ::= { edgeAgentMIB ${tree.objects.split(".").pop()} }`);
  });
});
