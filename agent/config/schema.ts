// The config schema: every key, its default and what it accepts, in one table. The Config type
// (agent/config.ts), the loader and the JSON Schema for editors (packaging/config.schema.json)
// all come from this table. Durations become `<key>Ms` in Config.
import { DEFAULT_BASE_OID } from "../snmp/oid-tree";
import * as check from "./checks";
import { bool, duration, int, nullableSecret, nullableStr, oneOf, secretStr, str } from "./leaves";
import { Invalid, leaf, list, nullableObj, obj, type ObjOut, type Out } from "./nodes";
import { redactUrl } from "./redact";

export type AuthProtocol = "md5" | "sha" | "sha224" | "sha256" | "sha384" | "sha512";
export type PrivProtocol = "des" | "aes" | "aes256b" | "aes256r";
export const AUTH_PROTOCOLS: readonly AuthProtocol[] = ["md5", "sha", "sha224", "sha256", "sha384", "sha512"];
export const PRIV_PROTOCOLS: readonly PrivProtocol[] = ["des", "aes", "aes256b", "aes256r"];

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const privProtocol = leaf<PrivProtocol | null>("aes", { enum: [...PRIV_PROTOCOLS, "none", null], default: "aes" }, (raw, show) =>
  raw === null || raw === "none" ? null : oneOf<PrivProtocol>("aes", PRIV_PROTOCOLS).convert(raw, show),
);

const userFields = {
  name: str("", check.nonEmpty("the v3 user name")),
  authProtocol: oneOf<AuthProtocol>("sha256", AUTH_PROTOCOLS),
  authKey: secretStr("", check.v3Key),
  privProtocol,
  privKey: nullableSecret(check.v3Key),
};

const firewallPort = leaf<"auto" | number>("auto", { anyOf: [{ const: "auto" }, { type: "integer", minimum: 1, maximum: 65535 }], default: "auto" }, (raw, show) => {
  if (raw === "auto") return "auto";
  if (typeof raw === "number" && Number.isInteger(raw) && raw >= 1 && raw <= 65535) return raw;
  throw new Invalid(`expected auto or a UDP port from 1 to 65535, got ${show(raw)}`);
});

export const configSchema = obj({
  scraper: str("scraper", check.nonEmpty("the scraper's tailnet name or address")),
  tailscale: obj({
    socket: nullableStr(),
    expectedTags: list(str("", check.tag), ["tag:monitor"]),
  }),
  ipv6: obj({ allocations: list(str("", check.ipv6Prefix)) }),
  probes: obj({
    timeout: duration("2s", 100, MINUTE),
    nodeExporter: obj({
      url: str("http://127.0.0.1:9100/metrics", check.httpUrl, redactUrl),
      tls: obj({
        caFile: nullableStr(check.absolutePath),
        serverName: nullableStr(),
        insecureSkipVerify: bool(false),
      }),
    }),
    snmpd: obj({
      host: str("127.0.0.1"),
      port: int(161, 1, 65535),
      version: oneOf("2c", ["2c", "3"]),
      community: secretStr("public"),
      user: nullableObj(userFields),
    }),
  }),
  notifications: obj({
    target: str("", check.hostPortOrEmpty),
    targets: list(str("", check.hostPort)),
    version: oneOf("2c", ["2c", "3"]),
    community: secretStr("public"),
    user: nullableObj(userFields),
    engineId: nullableStr(check.engineId),
    inform: bool(true),
    timeout: duration("5s", 100, MINUTE),
    retries: int(3, 0, 20),
    outbox: str("/var/lib/edge-agent/outbox"),
    outboxMax: int(10_000, 1, 10_000_000),
  }),
  textfile: obj({ directory: str("/var/lib/prometheus/node-exporter") }),
  agentx: obj({ enabled: bool(true), master: str("tcp:127.0.0.1:705", check.agentxMaster) }),
  firewall: obj({ port: firewallPort, forwardPrefixes: list(str("", check.prefix)) }),
  run: obj({
    interval: duration("30s", SECOND, 24 * HOUR),
    heartbeat: duration("5m", 100, 24 * HOUR),
  }),
  receiver: obj({
    listen: list(str("", check.listenAddress), ["udp6:[::]:162", "udp:0.0.0.0:162"]),
    communities: list(secretStr("", check.nonEmpty("a non-empty community"))),
    users: list(obj(userFields)),
    allowSources: list(str("", check.prefix)),
    trustClaimedAddresses: bool(false),
    metrics: str("[::]:9163", check.hostPort),
    fileSd: str("/etc/prometheus/file_sd/edge-agent.yml"),
    alertmanager: str("", check.httpUrlOrEmpty, redactUrl),
    state: str("/var/lib/edge-agent/fleet.json"),
    staleAfterHeartbeats: int(3, 1, 1000),
    nodeTag: str("tag:monitor", check.tag),
    tailnetRefresh: duration("1m", SECOND, HOUR),
    // Which edge_fleet_node_* series /metrics has per node: problems (every node's
    // edge_fleet_node_up, the rest only where something is wrong) or all (every series for every
    // node). The fleet counts (edge_fleet_nodes_by_*) are there either way.
    nodeSeries: oneOf("problems", ["problems", "all"]),
    // Bytes of socket receive buffer asked for per listener (SO_RCVBUF; the kernel doubles it and
    // caps the request at net.core.rmem_max); 0 keeps the kernel's default.
    socketBuffer: int(8 * 1024 * 1024, 0, 1024 * 1024 * 1024),
  }),
  log: obj({ level: oneOf("info", ["trace", "debug", "info", "warn", "error", "fatal"]) }),
  mib: obj({ baseOid: str(DEFAULT_BASE_OID, check.oid) }),
});

/** What the table yields, before the loader adds `source` and derives the notification targets. */
export type ConfigFields = Out<typeof configSchema>;
export type SnmpUser = ObjOut<typeof userFields>;
