// Loads the YAML config, fills in every default and rejects anything it does not understand.
// Errors name the file, the key path and what was expected, so a typo never passes silently.
import { readFileSync } from "node:fs";
import ipaddr from "ipaddr.js";
import { LineCounter, parseDocument } from "yaml";
import { ConfigError } from "./config-error";
import { DEFAULT_BASE_OID, isValidOid } from "./snmp/oid-tree";

export { ConfigError };

export const DEFAULT_CONFIG_PATH = "/etc/edge-agent/config.yaml";

export interface SnmpUser {
  name: string;
  authProtocol: AuthProtocol;
  authKey: string;
  privProtocol: PrivProtocol | null;
  privKey: string | null;
}
export type AuthProtocol = "md5" | "sha" | "sha224" | "sha256" | "sha384" | "sha512";
export type PrivProtocol = "des" | "aes" | "aes256b" | "aes256r";
export const AUTH_PROTOCOLS: readonly AuthProtocol[] = ["md5", "sha", "sha224", "sha256", "sha384", "sha512"];
export const PRIV_PROTOCOLS: readonly PrivProtocol[] = ["des", "aes", "aes256b", "aes256r"];

/**
 * How the probe checks an https node-exporter's certificate: the part of Prometheus' tls_config
 * that a scrape of one's own node-exporter needs. Set with an http URL, it is a config error
 * rather than silently unused.
 */
export interface NodeExporterTls {
  /** PEM file of the CA(s) that signed node-exporter's certificate; null: the system's CAs. */
  caFile: string | null;
  /** The name the certificate must carry; null: the URL's host. */
  serverName: string | null;
  insecureSkipVerify: boolean;
}

export interface Config {
  /** Where the config came from: a path, or null when the defaults were used. */
  source: string | null;
  scraper: string;
  tailscale: { socket: string | null; expectedTags: string[] };
  ipv6: { allocations: string[] };
  probes: {
    timeoutMs: number;
    nodeExporter: { url: string; tls: NodeExporterTls };
    snmpd: { host: string; port: number; version: "2c" | "3"; community: string; user: SnmpUser | null };
  };
  notifications: {
    target: string;
    version: "2c" | "3";
    community: string;
    user: SnmpUser | null;
    engineId: string | null;
    inform: boolean;
    timeoutMs: number;
    retries: number;
    outbox: string;
    outboxMax: number;
  };
  textfile: { directory: string };
  agentx: { enabled: boolean; master: string };
  firewall: { port: "auto" | number; forwardPrefixes: string[] };
  run: { intervalMs: number; heartbeatMs: number };
  receiver: {
    listen: string[];
    communities: string[];
    users: SnmpUser[];
    allowSources: string[];
    trustClaimedAddresses: boolean;
    metrics: string;
    fileSd: string;
    alertmanager: string;
    state: string;
    staleAfterHeartbeats: number;
  };
  log: { level: "trace" | "debug" | "info" | "warn" | "error" | "fatal" };
  /** Where EDGE-AGENT-MIB is rooted; sender (notifier, AgentX) and receiver must agree. */
  mib: { baseOid: string };
}

// ---- schema -------------------------------------------------------------------------------
// Each leaf validates and converts one raw YAML value; objects recurse. Defaults are raw values
// so they pass through the same conversion as user input.

type Leaf = { kind: "leaf"; default: unknown; convert: (raw: unknown, key: string) => unknown };
type Obj = { kind: "object"; fields: Record<string, Node>; nullable?: boolean };
type Node = Leaf | Obj;

class Invalid extends Error {}

function describe(raw: unknown): string {
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "a list";
  if (typeof raw === "object") return "a mapping";
  return `${typeof raw} ${JSON.stringify(raw)}`;
}

const str = (def: string, check?: (s: string) => string | null): Leaf => ({
  kind: "leaf",
  default: def,
  convert: (raw) => {
    if (typeof raw !== "string") throw new Invalid(`expected a string, got ${describe(raw)}`);
    const problem = check?.(raw);
    if (problem) throw new Invalid(problem);
    return raw;
  },
});

/** Secrets (communities, keys) are never echoed back in an error: only their type is named. */
const secretStr = (def: string, check?: (s: string) => string | null): Leaf => ({
  kind: "leaf",
  default: def,
  convert: (raw) => {
    if (typeof raw !== "string") throw new Invalid(`expected a string, got ${kindOf(raw)} (quote it in YAML)`);
    const problem = check?.(raw);
    if (problem) throw new Invalid(problem);
    return raw;
  },
});

const nullableSecret = (check?: (s: string) => string | null): Leaf => ({
  kind: "leaf",
  default: null,
  convert: (raw) => (raw === null || raw === "" ? null : secretStr("", check).convert(raw, "")),
});

function kindOf(raw: unknown): string {
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "a list";
  if (typeof raw === "object") return "a mapping";
  return `a ${typeof raw}`;
}

const nullableStr = (check?: (s: string) => string | null): Leaf => ({
  kind: "leaf",
  default: null,
  convert: (raw) => (raw === null || raw === "" ? null : str("", check).convert(raw, "")),
});

const bool = (def: boolean): Leaf => ({
  kind: "leaf",
  default: def,
  convert: (raw) => {
    if (typeof raw !== "boolean") throw new Invalid(`expected true or false, got ${describe(raw)}`);
    return raw;
  },
});

const int = (def: number, min: number, max: number): Leaf => ({
  kind: "leaf",
  default: def,
  convert: (raw) => {
    if (typeof raw !== "number" || !Number.isInteger(raw) || raw < min || raw > max)
      throw new Invalid(`expected a whole number from ${min} to ${max}, got ${describe(raw)}`);
    return raw;
  },
});

const oneOf = <T extends string>(def: T, values: readonly T[]): Leaf => ({
  kind: "leaf",
  default: def,
  convert: (raw) => {
    const value = typeof raw === "number" ? String(raw) : raw;
    if (typeof value !== "string" || !values.includes(value as T))
      throw new Invalid(`expected one of ${values.join(", ")}, got ${describe(raw)}`);
    return value;
  },
});

/** Durations in Prometheus style: 500ms, 30s, 5m, 1h; a bare number is seconds. */
export function parseDuration(raw: unknown): number {
  if (typeof raw === "number" && raw > 0) return Math.round(raw * 1000);
  const match = typeof raw === "string" ? /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim()) : null;
  if (!match) throw new Invalid(`expected a duration like 500ms, 30s, 5m or 1h, got ${describe(raw)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as "ms" | "s" | "m" | "h"];
  const ms = Math.round(Number(match[1]) * unit);
  if (ms <= 0) throw new Invalid(`expected a duration above zero, got ${describe(raw)}`);
  return ms;
}

const duration = (def: string): Leaf => ({ kind: "leaf", default: def, convert: parseDuration });

const list = (def: unknown[], item: (raw: unknown, index: number) => unknown): Leaf => ({
  kind: "leaf",
  default: def,
  convert: (raw) => {
    if (raw === null) return [];
    if (!Array.isArray(raw)) throw new Invalid(`expected a list, got ${describe(raw)}`);
    return raw.map((value, index) => {
      try {
        return item(value, index);
      } catch (error) {
        if (error instanceof Invalid) throw new Invalid(`item ${index}: ${error.message}`);
        throw error;
      }
    });
  },
});

function prefix(raw: unknown): string {
  if (typeof raw !== "string") throw new Invalid(`expected a prefix like 2001:db8:100::/56, got ${describe(raw)}`);
  try {
    const [addr, len] = ipaddr.parseCIDR(raw);
    // Normalise to the network address so comparisons and output are canonical.
    const network = addr.kind() === "ipv6"
      ? ipaddr.IPv6.networkAddressFromCIDR(raw)
      : ipaddr.IPv4.networkAddressFromCIDR(raw);
    return `${network.toString()}/${len}`;
  } catch {
    throw new Invalid(`"${raw}" is not a prefix (expected address/length, like 2001:db8:100::/56)`);
  }
}

function ipv6Prefix(raw: unknown): string {
  const canonical = prefix(raw);
  if (!canonical.includes(":")) throw new Invalid(`"${raw as string}" is an IPv4 prefix; expected an IPv6 prefix like 2001:db8:100::/56`);
  return canonical;
}

function tag(raw: unknown): string {
  if (typeof raw !== "string" || !/^tag:[A-Za-z0-9][A-Za-z0-9-]*$/.test(raw))
    throw new Invalid(`expected a tailnet tag like tag:monitor, got ${describe(raw)}`);
  return raw;
}

/** The port at the end of HOST:PORT, when it is one from 1 to 65535. */
function portOk(raw: string): boolean {
  const port = Number(/:(\d{1,5})$/.exec(raw)?.[1] ?? "0");
  return port >= 1 && port <= 65535;
}

function hostPort(raw: string): string | null {
  return /^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):\d{1,5}$/.test(raw) && portOk(raw) ? null : `expected host:port or [ipv6]:port with a port from 1 to 65535, got "${raw}"`;
}

function listenAddress(raw: unknown): string {
  if (typeof raw !== "string" || !/^(udp|udp6|udp4):(\[[0-9a-fA-F:.]*\]|[0-9.]+|[A-Za-z0-9.-]+):\d{1,5}$/.test(raw) || !portOk(raw))
    throw new Invalid(`expected transport:address:port like udp6:[::]:162 or udp:0.0.0.0:162, got ${describe(raw)}`);
  return raw;
}

function url(raw: string): string | null {
  try {
    const parsed = new URL(raw);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? null : `expected an http(s) URL, got "${redactUrl(raw)}"`;
  } catch {
    return `expected a URL like http://127.0.0.1:9100/metrics, got "${redactUrl(raw)}"`;
  }
}

function hexEngineId(raw: string): string | null {
  const hex = raw.replace(/^0x/i, "");
  return /^[0-9a-fA-F]{10,64}$/.test(hex) && hex.length % 2 === 0
    ? null
    : `expected an engine ID of 5 to 32 bytes in hex (like 8000000001020304), got "${raw}"`;
}

/** RFC 3414: passphrases must be at least 8 characters; Net-SNMP refuses shorter ones too. */
function secret(raw: string): string | null {
  return raw.length >= 8 ? null : "expected at least 8 characters (RFC 3414 minimum)";
}

const userSchema = (nullable: boolean): Obj => ({
  kind: "object",
  nullable,
  fields: {
    name: str("", (s) => (s ? null : "expected the v3 user name")),
    authProtocol: oneOf<AuthProtocol>("sha256", AUTH_PROTOCOLS),
    authKey: secretStr("", secret),
    privProtocol: {
      kind: "leaf",
      default: "aes",
      convert: (raw, key) => (raw === null || raw === "none" ? null : oneOf<PrivProtocol>("aes", PRIV_PROTOCOLS).convert(raw, key)),
    },
    privKey: nullableSecret(secret),
  },
});

const schema: Obj = {
  kind: "object",
  fields: {
    scraper: str("scraper", (s) => (s ? null : "expected the scraper's tailnet name or address")),
    tailscale: {
      kind: "object",
      fields: {
        socket: nullableStr(),
        expectedTags: list(["tag:monitor"], tag),
      },
    },
    ipv6: { kind: "object", fields: { allocations: list([], ipv6Prefix) } },
    probes: {
      kind: "object",
      fields: {
        timeout: duration("2s"),
        nodeExporter: {
          kind: "object",
          fields: {
            url: str("http://127.0.0.1:9100/metrics", url),
            tls: {
              kind: "object",
              fields: {
                caFile: nullableStr((s) => (s.startsWith("/") ? null : `expected an absolute path to a PEM file, got "${s}"`)),
                serverName: nullableStr(),
                insecureSkipVerify: bool(false),
              },
            },
          },
        },
        snmpd: {
          kind: "object",
          fields: {
            host: str("127.0.0.1"),
            port: int(161, 1, 65535),
            version: oneOf("2c", ["2c", "3"]),
            community: secretStr("public"),
            user: userSchema(true),
          },
        },
      },
    },
    notifications: {
      kind: "object",
      fields: {
        target: str("", (s) => (s === "" ? null : hostPort(s))),
        version: oneOf("2c", ["2c", "3"]),
        community: secretStr("public"),
        user: userSchema(true),
        engineId: nullableStr(hexEngineId),
        inform: bool(true),
        timeout: duration("5s"),
        retries: int(3, 0, 20),
        outbox: str("/var/lib/edge-agent/outbox"),
        outboxMax: int(10_000, 1, 10_000_000),
      },
    },
    textfile: { kind: "object", fields: { directory: str("/var/lib/prometheus/node-exporter") } },
    agentx: { kind: "object", fields: { enabled: bool(true), master: str("tcp:127.0.0.1:705", (s) => (/^tcp:[^:]+:\d{1,5}$|^tcp:\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(s) && portOk(s) ? null : `expected tcp:HOST:PORT (net-snmp's subagent speaks TCP only), got "${s}"`)) } },
    firewall: {
      kind: "object",
      fields: {
        port: {
          kind: "leaf",
          default: "auto",
          convert: (raw) => {
            if (raw === "auto") return "auto";
            if (typeof raw === "number" && Number.isInteger(raw) && raw >= 1 && raw <= 65535) return raw;
            throw new Invalid(`expected auto or a UDP port from 1 to 65535, got ${describe(raw)}`);
          },
        },
        forwardPrefixes: list([], prefix),
      },
    },
    run: { kind: "object", fields: { interval: duration("30s"), heartbeat: duration("5m") } },
    receiver: {
      kind: "object",
      fields: {
        listen: list(["udp6:[::]:162", "udp:0.0.0.0:162"], listenAddress),
        communities: list([], (raw) => secretStr("", (v) => (v ? null : "expected a non-empty community")).convert(raw, "")),
        users: { kind: "leaf", default: [], convert: (raw, key) => list([], (item, i) => convertNode(userSchema(false), item, `${key}[${i}]`)).convert(raw, key) },
        allowSources: list([], prefix),
        trustClaimedAddresses: bool(false),
        metrics: str("[::]:9163", hostPort),
        fileSd: str("/etc/prometheus/file_sd/edge-agent.yml"),
        alertmanager: str("", (s) => (s === "" ? null : url(s))),
        state: str("/var/lib/edge-agent/fleet.json"),
        staleAfterHeartbeats: int(3, 1, 1000),
      },
    },
    log: { kind: "object", fields: { level: oneOf("info", ["trace", "debug", "info", "warn", "error", "fatal"]) } },
    mib: { kind: "object", fields: { baseOid: str(DEFAULT_BASE_OID, (s) => (isValidOid(s) ? null : `expected an OID like 1.3.6.1.4.1.<your PEN>.1, got "${s}"`)) } },
  },
};

function convertNode(node: Node, raw: unknown, key: string): unknown {
  if (node.kind === "leaf") {
    try {
      return node.convert(raw === undefined ? node.default : raw, key);
    } catch (error) {
      if (error instanceof Invalid) throw new ConfigError(null, key, error.message);
      throw error;
    }
  }
  if (raw === null && node.nullable) return null;
  if (raw === undefined && node.nullable) return null;
  const given = raw === undefined || raw === null ? {} : raw;
  if (typeof given !== "object" || Array.isArray(given))
    throw new ConfigError(null, key || "(top level)", `expected a mapping, got ${describe(raw)}`);
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!(name in node.fields)) {
      const known = Object.keys(node.fields).join(", ");
      throw new ConfigError(null, key ? `${key}.${name}` : name, `unknown key (known keys here: ${known})`);
    }
  }
  for (const [name, child] of Object.entries(node.fields)) {
    out[name] = convertNode(child, (given as Record<string, unknown>)[name], key ? `${key}.${name}` : name);
  }
  return out;
}

/** Turns a parsed YAML value into a Config. Pure, so tests need no files. */
export function configFromObject(raw: unknown, source: string | null): Config {
  let converted: Record<string, any>;
  try {
    converted = convertNode(schema, raw, "") as Record<string, any>;
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(source, error.key, error.problem);
    throw error;
  }
  const c = converted;
  const config: Config = {
    source,
    scraper: c.scraper,
    tailscale: c.tailscale,
    ipv6: c.ipv6,
    probes: { timeoutMs: c.probes.timeout, nodeExporter: c.probes.nodeExporter, snmpd: c.probes.snmpd },
    notifications: {
      ...c.notifications,
      target: c.notifications.target || `${c.scraper.includes(":") ? `[${c.scraper}]` : c.scraper}:162`,
      timeoutMs: c.notifications.timeout,
    },
    textfile: c.textfile,
    agentx: c.agentx,
    firewall: c.firewall,
    run: { intervalMs: c.run.interval, heartbeatMs: c.run.heartbeat },
    receiver: c.receiver,
    log: c.log,
    mib: c.mib,
  };
  delete (config.notifications as Record<string, unknown>).timeout;
  crossCheck(config, source);
  return config;
}

/** Rules that tie several keys together. */
function crossCheck(config: Config, source: string | null): void {
  const n = config.notifications;
  if (n.version === "3" && !n.user)
    throw new ConfigError(source, "notifications.user", "notifications.version is 3, so a v3 user {name, authProtocol, authKey, privProtocol, privKey} is required");
  if (n.version === "2c" && !n.community)
    throw new ConfigError(source, "notifications.community", "notifications.version is 2c, so a community is required");
  if (n.version === "3" && !n.inform && !n.engineId)
    throw new ConfigError(source, "notifications.engineId", "v3 traps need a fixed engine ID that the receiver knows (snmptrapd drops v3 traps from unknown engines)");
  const ne = config.probes.nodeExporter;
  if (new URL(ne.url).protocol !== "https:") {
    const set = (["caFile", "serverName", "insecureSkipVerify"] as const).find((k) => ne.tls[k]);
    if (set) throw new ConfigError(source, `probes.nodeExporter.tls.${set}`, `applies to https only, and probes.nodeExporter.url is ${redactUrl(ne.url)}`);
  }
  const s = config.probes.snmpd;
  if (s.version === "3" && !s.user)
    throw new ConfigError(source, "probes.snmpd.user", "probes.snmpd.version is 3, so a v3 user is required");
  for (const [key, user] of [["notifications.user", n.user], ["probes.snmpd.user", s.user]] as const) {
    if (user && user.privProtocol && !user.privKey)
      throw new ConfigError(source, `${key}.privKey`, `privProtocol is ${user.privProtocol}, so a privKey of at least 8 characters is required`);
  }
  config.receiver.users.forEach((user, i) => {
    if (user.privProtocol && !user.privKey)
      throw new ConfigError(source, `receiver.users[${i}].privKey`, `privProtocol is ${user.privProtocol}, so a privKey is required`);
  });
}

/**
 * Reads the config file. With no explicit path and no file at the default path, the defaults
 * apply; an explicit path that does not exist is an error.
 */
export function loadConfig(explicitPath?: string, defaultPath = DEFAULT_CONFIG_PATH): Config {
  const path = explicitPath ?? defaultPath;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !explicitPath) return configFromObject({}, null);
    throw new ConfigError(path, "(file)", code === "ENOENT" ? "no such config file (create it, or leave out --config to use the defaults)" : `cannot read the config file: ${(error as Error).message}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const pos = lineCounter.linePos(first.pos[0]);
    const where = `line ${pos.line}, column ${pos.col}`;
    throw new ConfigError(path, where, `not valid YAML: ${first.message.split("\n")[0]}`);
  }
  return configFromObject(doc.toJS() ?? {}, path);
}

/**
 * A URL as logs, `status` and notifications may show it: the password of its userinfo (for a
 * node-exporter whose web config asks for basic auth) becomes <secret>, as Prometheus shows its
 * own. Works on the text, so a URL the config refuses is shown redacted in the error too; the
 * userinfo ends at the authority's last "@", as URL parsers read it.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (whole, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return colon < 0 ? whole : `${scheme}${userinfo.slice(0, colon)}:<secret>@`;
  });
}

/** The config with secrets replaced, for logs and `doctor`. */
export function redactConfig(config: Config): unknown {
  return JSON.parse(
    JSON.stringify(config, (key, value) =>
      ["community", "authKey", "privKey"].includes(key) && typeof value === "string" && value !== ""
        ? "<redacted>"
        : key === "communities" && Array.isArray(value)
          ? value.map(() => "<redacted>")
          : key === "url" && typeof value === "string"
            ? redactUrl(value)
            : value,
    ),
  );
}
