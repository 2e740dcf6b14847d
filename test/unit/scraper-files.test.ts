// The pure renderers behind the scraper files: snmp_exporter names and states, the generator's
// overrides, and the snmptt fragment's events and varbind positions.
import { describe, expect, it } from "vitest";
import { NOTIFICATIONS, NOTIFICATION_OBJECTS, OBJECTS } from "../../agent/snmp/oid-tree";
import { generatorYml, metricName, polledObjects, shippedSnmpYml, stateName } from "../../scripts/scraper-files/snmp-exporter";
import { snmpttConf } from "../../scripts/scraper-files/snmptt";

describe("snmp_exporter module", () => {
  it("names metrics in snake_case under edge_agent_mib_, states as the textfile spells them", () => {
    expect(metricName("edgeAgentFirewallInboundIpv6")).toBe("edge_agent_mib_firewall_inbound_ipv6");
    expect(metricName("edgeAgentScraperPath")).toBe("edge_agent_mib_scraper_path");
    expect(stateName("peerRelay")).toBe("peer-relay");
    expect(stateName("direct")).toBe("direct");
    for (const o of polledObjects()) expect(metricName(o.name)).toMatch(/^edge_agent_mib_[a-z0-9_]+$/);
  });

  it("polls the read-only objects and makes every enum and TruthValue a state set", () => {
    const text = generatorYml();
    for (const o of OBJECTS) {
      const stateSet = o.access === "read-only" && (o.syntax.kind === "Enum" || o.syntax.kind === "TruthValue");
      expect(text.includes(`${o.name}:\n        type: EnumAsStateSet`), o.name).toBe(stateSet);
    }
  });

  it("renames the generator's metrics and states, keeping integer enum keys", () => {
    const generated = "edge_agent:\n  walk:\n  - 1.3.6.1.3.9163.1\n  metrics:\n  - name: edgeAgentScraperPath\n    oid: 1.3.6.1.3.9163.1.8\n    type: EnumAsStateSet\n    enum_values:\n      0: unknown\n      3: peerRelay\n";
    const shipped = shippedSnmpYml(generated);
    expect(shipped).toContain("name: edge_agent_mib_scraper_path");
    expect(shipped).toMatch(/\n {8}0: unknown\n {8}3: peer-relay\n/);
  });
});

describe("snmptt fragment", () => {
  it("has one EVENT per notification, naming the node and the summary by their varbind positions", () => {
    const text = snmpttConf();
    expect(text.match(/^EVENT /gm)).toHaveLength(NOTIFICATIONS.length);
    const node = NOTIFICATION_OBJECTS.indexOf("edgeAgentTailnetName") + 1;
    const summary = NOTIFICATION_OBJECTS.indexOf("edgeAgentEventSummary") + 1;
    expect(text).toContain(`EVENT edgeAgentServiceDown .1.3.6.1.3.9163.0.6 "edge-agent" Major\nFORMAT edgeAgentServiceDown from $${node} ($A): $${summary}\n`);
  });
});
