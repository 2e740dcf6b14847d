// Loads the YAML config, fills in every default and rejects anything it does not understand,
// reporting every problem at once, each with the file, the line and the key path. The keys, their
// defaults and what they accept are one table (config/schema.ts); the Config type comes from it.
import { ConfigError, type ConfigProblem } from "./config-error";
import { convert, keyOf, type Found, type Path } from "./config/convert";
import { crossCheck } from "./config/cross-check";
import { parseConfigText, readConfigText } from "./config/read";
import { configSchema, type ConfigFields } from "./config/schema";

export { ConfigError };
export { redactConfig, redactUrl } from "./config/redact";
export { AUTH_PROTOCOLS, PRIV_PROTOCOLS, type AuthProtocol, type PrivProtocol, type SnmpUser } from "./config/schema";
export { MAX_CONFIG_BYTES } from "./config/read";

export const DEFAULT_CONFIG_PATH = "/etc/edge-agent/config.yaml";

export interface Config extends ConfigFields {
  /** Where the config came from: a path, or null when the defaults were used. */
  source: string | null;
}

/**
 * How the probe checks an https node-exporter's certificate: the part of Prometheus' tls_config
 * that a scrape of one's own node-exporter needs.
 */
export type NodeExporterTls = Config["probes"]["nodeExporter"]["tls"];

function failure(source: string | null, found: Found[], lineOf?: (path: Path) => number | null): ConfigError {
  const problems: ConfigProblem[] = found.map(({ path, problem }) => ({ key: keyOf(path), problem, line: lineOf?.(path) ?? null, code: "invalid" }));
  return ConfigError.of(source, problems);
}

/** Turns a parsed YAML value into a Config. Pure, so tests need no files. */
export function configFromObject(raw: unknown, source: string | null, lineOf?: (path: Path) => number | null): Config {
  const found: Found[] = [];
  const fields = convert(configSchema, raw, [], found) as ConfigFields;
  if (found.length > 0) throw failure(source, found, lineOf);
  // Rules across keys need every key valid; a file with both kinds of mistake shows these second.
  const crossed = crossCheck(fields);
  if (crossed.length > 0) throw failure(source, crossed, lineOf);
  const scraper = fields.scraper;
  const target = fields.notifications.target || `${scraper.includes(":") ? `[${scraper}]` : scraper}:162`;
  return { source, ...fields, notifications: { ...fields.notifications, target } };
}

/**
 * Reads the config file. With no explicit path and no file at the default path, the defaults
 * apply; an explicit path that does not exist is an error.
 */
export function loadConfig(explicitPath?: string, defaultPath = DEFAULT_CONFIG_PATH): Config {
  const path = explicitPath ?? defaultPath;
  const text = readConfigText(path);
  if (text === null) {
    if (!explicitPath) return configFromObject({}, null);
    throw new ConfigError(path, "(file)", "no such config file (create it, or leave out --config to use the defaults)", { code: "missing" });
  }
  const parsed = parseConfigText(text, path);
  return configFromObject(parsed.value, path, parsed.lineOf);
}
