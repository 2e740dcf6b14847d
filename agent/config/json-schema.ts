// The JSON Schema of the config file, generated from the schema table, for editors (YAML
// language servers read it: `# yaml-language-server: $schema=/usr/share/edge-agent/config.schema.json`).
// The package ships it as generated here; a unit test keeps packaging/config.schema.json equal.
import type { JsonSchema, Node } from "./nodes";
import { configSchema } from "./schema";

function nodeSchema(node: Node): JsonSchema {
  if (node.kind === "leaf") return node.json;
  if (node.kind === "list") {
    // An item has no default of its own: the list's default is the one that applies.
    const { default: _itemDefault, ...items } = nodeSchema(node.item);
    return { type: ["array", "null"], items, default: node.default };
  }
  const fields: Record<string, Node> = node.fields;
  return {
    // null is accepted as "all defaults" for a section, and as "none" for a nullable one.
    type: ["object", "null"],
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(fields).map(([name, child]) => [name, nodeSchema(child)])),
    ...(node.nullable ? { default: null } : {}),
  };
}

export function configJsonSchema(): JsonSchema {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "file:///usr/share/edge-agent/config.schema.json",
    title: "edge-agent configuration (/etc/edge-agent/config.yaml, man 5 edge-agent.yaml)",
    ...nodeSchema(configSchema),
  };
}

/** The file as shipped: stable key order, two-space indent, final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
