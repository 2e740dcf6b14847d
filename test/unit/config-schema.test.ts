// The JSON Schema shipped for editors (packaging/config.schema.json): generated from the same
// table as the loader, current, and agreeing with the loader on what a valid config is.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configFromObject } from "../../agent/config";
import { configJsonSchema, configJsonSchemaText } from "../../agent/config/json-schema";

const SHIPPED = join(__dirname, "../../packaging/config.schema.json");

type Schema = { [key: string]: any };

/** The draft-07 keywords the generator uses, enough to ask "would an editor flag this?". */
function violations(schema: Schema, value: unknown, at = "$"): string[] {
  const typeOf = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v);
  const types: string[] | undefined = schema.type === undefined ? undefined : [schema.type].flat();
  if (types && !types.some((t) => t === typeOf(value) || (t === "number" && typeOf(value) === "integer"))) return [`${at}: type`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: enum`];
  if ("const" in schema && schema.const !== value) return [`${at}: const`];
  if (schema.anyOf && schema.anyOf.every((s: Schema) => violations(s, value, at).length > 0)) return [`${at}: anyOf`];
  if (typeof value === "number" && ((schema.minimum !== undefined && value < schema.minimum) || (schema.maximum !== undefined && value > schema.maximum))) return [`${at}: range`];
  if (typeof value === "string" && schema.pattern && !new RegExp(schema.pattern).test(value)) return [`${at}: pattern`];
  if (Array.isArray(value) && schema.items) return value.flatMap((v, i) => violations(schema.items, v, `${at}[${i}]`));
  if (value && typeof value === "object" && schema.properties)
    return Object.entries(value).flatMap(([k, v]) => (Object.prototype.hasOwnProperty.call(schema.properties, k) ? violations(schema.properties[k], v, `${at}.${k}`) : schema.additionalProperties === false ? [`${at}.${k}: unknown`] : []));
  return [];
}

/** Every key path of a schema's properties, as the config writes it. */
function schemaKeys(schema: Schema, prefix = ""): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([k, s]) => [`${prefix}${k}`, ...schemaKeys(s as Schema, `${prefix}${k}.`)]);
}

describe("packaging/config.schema.json", () => {
  it("is what the generator makes from the schema table (regenerate: npx tsx scripts/config-schema.ts > packaging/config.schema.json)", () => {
    expect(readFileSync(SHIPPED, "utf8")).toBe(configJsonSchemaText());
  });

  it("names every key of the loaded config, durations without their Ms", () => {
    const loaded = (value: unknown, prefix = ""): string[] =>
      value && typeof value === "object" && !Array.isArray(value)
        ? Object.entries(value).flatMap(([k, v]) => [`${prefix}${k.replace(/Ms$/, "")}`, ...loaded(v, `${prefix}${k.replace(/Ms$/, "")}.`)])
        : [];
    const { source: _source, ...config } = configFromObject({ probes: { snmpd: { version: 3, user: { name: "u", authKey: "12345678", privKey: "12345678" } } } }, null);
    const keys = schemaKeys(configJsonSchema());
    expect(loaded(config).filter((k) => !keys.includes(k))).toEqual([]);
  });

  it("accepts what the loader accepts: the shipped config with every setting uncommented", () => {
    const shipped = readFileSync(join(__dirname, "../../packaging/config.yaml"), "utf8").replace(/^#((?: {2})*[A-Za-z])/gm, "$1");
    const value = parse(shipped);
    expect(() => configFromObject(value, null)).not.toThrow();
    expect(violations(configJsonSchema(), value)).toEqual([]);
    const v3 = { version: 3, user: { name: "u", authProtocol: "sha", authKey: "12345678", privProtocol: "none", privKey: null }, timeout: 1.5 };
    expect(violations(configJsonSchema(), { notifications: v3, firewall: { port: 41641 }, run: { heartbeat: "200ms" } })).toEqual([]);
    for (const engineId of ["", null, "0x8000000001020304", "80001f8804656467652d31"]) {
      expect(() => configFromObject({ notifications: { engineId } }, null)).not.toThrow();
      expect(violations(configJsonSchema(), { notifications: { engineId } })).toEqual([]);
    }
  });

  it("every duration's range is in the README and the man page", () => {
    const docs = [readFileSync(join(__dirname, "../../README.md"), "utf8"), readFileSync(join(__dirname, "../../packaging/man/edge-agent.yaml.5"), "utf8")];
    const durations = (schema: Schema, at: string): [string, string][] =>
      Object.entries(schema.properties ?? {}).flatMap(([k, s]: [string, any]) => {
        const range = /^A duration from (\S+ to \S+):/.exec(s.description ?? "")?.[1];
        return range ? [[`${at}${k}`, range]] : durations(s, `${at}${k}.`);
      });
    const found = durations(configJsonSchema(), "");
    expect(found.map(([key]) => key)).toEqual(["probes.timeout", "notifications.timeout", "run.interval", "run.heartbeat", "receiver.tailnetRefresh"]);
    for (const [key, range] of found) for (const doc of docs) expect({ key, documented: doc.includes(range) }).toEqual({ key, documented: true });
  });

  it.each([
    ["an unknown key", { scrapper: "x" }, "$.scrapper: unknown"],
    ["an object's own property name as a key", { receiver: { constructor: 1 } }, "$.receiver.constructor: unknown"],
    ["a port out of range", { probes: { snmpd: { port: 70000 } } }, "$.probes.snmpd.port: range"],
    ["a duration in words", { probes: { timeout: "5 minutes" } }, "$.probes.timeout: anyOf"],
    ["a duration above its maximum", { run: { heartbeat: 600 * 3600 } }, "$.run.heartbeat: anyOf"],
    ["an SNMP version the agent does not speak", { notifications: { version: 1 } }, "$.notifications.version: enum"],
    ["a list where a string belongs", { scraper: ["a"] }, "$.scraper: type"],
    ["a tag without tag:", { tailscale: { expectedTags: ["tag:monitor", "monitor"] } }, "$.tailscale.expectedTags[1]: pattern"],
    ["an engine ID of odd length", { notifications: { engineId: "800000000102030" } }, "$.notifications.engineId: pattern"],
  ])("flags %s, as the loader refuses it", (_what, value, flagged) => {
    expect(() => configFromObject(value, null)).toThrow();
    expect(violations(configJsonSchema(), value)).toEqual([flagged]);
  });
});
