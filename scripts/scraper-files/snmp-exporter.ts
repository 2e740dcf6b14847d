// EDGE-AGENT-MIB's OID tree -> snmp_exporter's generator.yml, and the generator's snmp.yml ->
// the shipped module with Prometheus names. Pure; main.ts runs Debian's generator between the
// two. Debian 12's generator (0.21) names metrics after the MIB descriptors (camelCase, which
// promtool flags) and has no rename override, so the names are rewritten here, after it ran.
import { parseDocument, stringify, type Scalar, type YAMLMap, type YAMLSeq } from "yaml";
import { OBJECTS, type ObjectDef } from "../../agent/snmp/oid-tree";

export const MODULE = "edge_agent";

/** edgeAgentScraperPath -> edge_agent_mib_scraper_path: a prefix of its own, so no series
 *  collides with the node's textfile metrics (edge_agent_scraper_path{path} is one of those). */
export function metricName(descriptor: string): string {
  const rest = descriptor.replace(/^edgeAgent/, "");
  return `edge_agent_mib_${rest.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()}`;
}

/** peerRelay -> peer-relay: the state names the textfile and the receiver's metrics use. */
export function stateName(label: string): string {
  return label.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

/** What snmp_exporter can poll: the objects AgentX serves (read-only), not notification-only ones. */
export function polledObjects(objects: readonly ObjectDef[] = OBJECTS): ObjectDef[] {
  return objects.filter((o) => o.access === "read-only");
}

export function generatorYml(objects: readonly ObjectDef[] = OBJECTS): string {
  // Enums and TruthValues become state sets: one series per state, 1 for the current one, so a
  // rule can say `edge_agent_mib_scraper_path{edge_agent_mib_scraper_path="relay"} == 1`.
  const overrides: Record<string, { type: string }> = {};
  for (const o of polledObjects(objects)) {
    if (o.syntax.kind === "Enum" || o.syntax.kind === "TruthValue") overrides[o.name] = { type: "EnumAsStateSet" };
  }
  const doc = { modules: { [MODULE]: { walk: ["edgeAgentObjects"], version: 2, auth: { community: "public" }, overrides } } };
  return [
    "# snmp_exporter generator config for EDGE-AGENT-MIB, written by scripts/scraper-files/main.ts from",
    "# the agent's OID tree; do not edit. snmp.yml beside it is the generator's output with the",
    "# metrics renamed to snake_case (edge_agent_mib_*). Change auth for your snmpd.",
    stringify(doc, { lineWidth: 0 }).trimEnd(),
    "",
  ].join("\n");
}

/** The generator's snmp.yml -> the shipped one: names and enum states renamed, a header. Edited
 *  as a YAML document, not plain objects, so enum_values keep their integer keys. */
export function shippedSnmpYml(generated: string): string {
  const doc = parseDocument(generated);
  const metrics = doc.getIn([MODULE, "metrics"]) as YAMLSeq<YAMLMap>;
  for (const metric of metrics.items) {
    metric.set("name", metricName(String(metric.get("name"))));
    const states = metric.get("enum_values") as YAMLMap<unknown, Scalar> | undefined;
    for (const pair of states?.items ?? []) pair.value = doc.createNode(stateName(String(pair.value?.value))) as Scalar;
  }
  return [
    "# snmp_exporter module for EDGE-AGENT-MIB: Debian's prometheus-snmp-generator run on",
    "# generator.yml, metrics renamed to snake_case by scripts/scraper-files/main.ts; do not edit",
    "# (a test regenerates it and compares). Use: /snmp?module=edge_agent&target=NODE",
    doc.toString({ lineWidth: 0 }).replace(/^#.*\n/gm, "").trimEnd(),
    "",
  ].join("\n");
}
