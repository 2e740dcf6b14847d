// The config loader: defaults, a good file, and every kind of bad value named by file and key.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { ConfigError, DEFAULT_CONFIG_PATH, configFromObject, loadConfig, redactConfig, redactUrl, type Config } from "../../agent/config";
import { runAgent, runAgentBatch } from "../helpers/cli";

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ea-config-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const path = join(dir, `config-${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function loadError(text: string): ConfigError {
  const path = file(text);
  try {
    loadConfig(path);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe("defaults", () => {
  it("fills in every key when the default path has no file", () => {
    const config = loadConfig(undefined, join(dir, "absent", "config.yaml"));
    expect(config.source).toBeNull();
    expect(config.scraper).toBe("scraper");
    expect(config.tailscale).toEqual({ socket: null, expectedTags: ["tag:monitor"] });
    expect(config.ipv6.allocations).toEqual([]);
    expect(config.probes).toEqual({
      timeoutMs: 2000,
      nodeExporter: { url: "http://127.0.0.1:9100/metrics", tls: { caFile: null, serverName: null, insecureSkipVerify: false } },
      snmpd: { host: "127.0.0.1", port: 161, version: "2c", community: "public", user: null },
    });
    expect(config.notifications.target).toBe("scraper:162");
    expect(config.notifications.timeoutMs).toBe(5000);
    expect(config.firewall).toEqual({ port: "auto", forwardPrefixes: [] });
    expect(config.run).toEqual({ intervalMs: 30_000, heartbeatMs: 300_000 });
    expect(config.receiver.listen).toEqual(["udp6:[::]:162", "udp:0.0.0.0:162"]);
    expect(config.log.level).toBe("info");
  });

  it("reads the default path when a file is there", () => {
    const path = file("scraper: prom1\n");
    const config = loadConfig(undefined, path);
    expect(config.source).toBe(path);
    expect(config.scraper).toBe("prom1");
  });

  it("uses /etc/edge-agent/config.yaml as the default path", () => {
    expect(DEFAULT_CONFIG_PATH).toBe("/etc/edge-agent/config.yaml");
  });

  it("treats an empty file as all defaults", () => {
    expect(loadConfig(file("")).probes.timeoutMs).toBe(2000);
    expect(loadConfig(file("# only a comment\n")).scraper).toBe("scraper");
  });
});

describe("the Config type", () => {
  it("is derived from the schema table: durations in ms, nullable users, enums as unions", () => {
    // Checked by tsc (npx tsc --noEmit): a key added to the table changes these types.
    expectTypeOf<Config["run"]>().toEqualTypeOf<{ intervalMs: number; heartbeatMs: number }>();
    expectTypeOf<Config["probes"]["snmpd"]["version"]>().toEqualTypeOf<"2c" | "3">();
    expectTypeOf<Config["firewall"]["port"]>().toEqualTypeOf<"auto" | number>();
    expectTypeOf<Config["notifications"]["user"]>().toEqualTypeOf<{
      name: string;
      authProtocol: "md5" | "sha" | "sha224" | "sha256" | "sha384" | "sha512";
      authKey: string;
      privProtocol: "des" | "aes" | "aes256b" | "aes256r" | null;
      privKey: string | null;
    } | null>();
    expectTypeOf<Config["receiver"]["listen"]>().toEqualTypeOf<string[]>();
    expectTypeOf<Config["source"]>().toEqualTypeOf<string | null>();
    expect(Object.keys(configFromObject({}, null).run)).toEqual(["intervalMs", "heartbeatMs"]);
  });
});

describe("a good file", () => {
  it("converts and normalises what it reads", () => {
    const path = file(`
scraper: fd7a:115c:a1e0::1
tailscale:
  socket: /tmp/ts.sock
  expectedTags: [tag:monitor, tag:edge]
ipv6:
  allocations: [2001:db8:100:12::1/56, "2001:DB8:200::/48"]
probes:
  timeout: 750ms
  nodeExporter: { url: "http://[::1]:9100/metrics" }
  snmpd:
    host: ::1
    port: 1161
    version: 3
    user: { name: mon, authProtocol: sha512, authKey: "auth-pass-1", privProtocol: aes, privKey: "priv-pass-1" }
notifications:
  version: 2c
  community: tr4ps
  inform: false
  retries: 0
  timeout: 1.5
firewall: { port: 41641, forwardPrefixes: [192.0.2.0/24, 2001:db8:100::/56] }
run: { interval: 1m, heartbeat: 1h }
receiver:
  listen: ["udp6:[::1]:1162"]
  users:
    - { name: r1, authProtocol: sha, authKey: "abcdefgh", privProtocol: none }
log: { level: debug }
`);
    const c = loadConfig(path);
    expect(c.source).toBe(path);
    expect(c.tailscale).toEqual({ socket: "/tmp/ts.sock", expectedTags: ["tag:monitor", "tag:edge"] });
    // Host bits are dropped and the text made canonical, so comparisons and output agree.
    expect(c.ipv6.allocations).toEqual(["2001:db8:100::/56", "2001:db8:200::/48"]);
    expect(c.probes.timeoutMs).toBe(750);
    expect(c.probes.snmpd).toEqual({
      host: "::1",
      port: 1161,
      version: "3",
      community: "public",
      user: { name: "mon", authProtocol: "sha512", authKey: "auth-pass-1", privProtocol: "aes", privKey: "priv-pass-1" },
    });
    // An IPv6 scraper gets brackets in the derived notification target.
    expect(c.notifications.target).toBe("[fd7a:115c:a1e0::1]:162");
    expect(c.notifications.inform).toBe(false);
    expect(c.notifications.timeoutMs).toBe(1500);
    expect(c.firewall).toEqual({ port: 41641, forwardPrefixes: ["192.0.2.0/24", "2001:db8:100::/56"] });
    expect(c.run).toEqual({ intervalMs: 60_000, heartbeatMs: 3_600_000 });
    expect(c.receiver.users).toEqual([{ name: "r1", authProtocol: "sha", authKey: "abcdefgh", privProtocol: null, privKey: null }]);
    expect(c.log.level).toBe("debug");
  });

  it("parses Prometheus-style durations", () => {
    const heartbeat = (value: unknown) => configFromObject({ run: { heartbeat: value } }, null).run.heartbeatMs;
    expect(heartbeat("500ms")).toBe(500);
    expect(heartbeat("30s")).toBe(30_000);
    expect(heartbeat("5m")).toBe(300_000);
    expect(heartbeat("2h")).toBe(7_200_000);
    expect(heartbeat(2)).toBe(2000);
  });

  it("hides secrets when the config is shown", () => {
    const c = configFromObject({ probes: { snmpd: { community: "s3cret-community" } }, receiver: { communities: ["other-secret"] } }, null);
    const shown = JSON.stringify(redactConfig(c));
    expect(shown).not.toContain("s3cret-community");
    expect(shown).not.toContain("other-secret");
    expect(shown).toContain("<redacted>");
  });

  it("shows node-exporter's URL without the basic-auth password it may carry", () => {
    const c = configFromObject({ probes: { nodeExporter: { url: "http://prom:pa55word@127.0.0.1:9100/metrics" } } }, null);
    expect(c.probes.nodeExporter.url).toBe("http://prom:pa55word@127.0.0.1:9100/metrics");
    expect(JSON.stringify(redactConfig(c))).toContain('"url":"http://prom:<secret>@127.0.0.1:9100/metrics"');
    expect(JSON.stringify(redactConfig(c))).not.toContain("pa55word");
  });
});

describe("redactUrl", () => {
  it.each([
    ["http://prom:pa55word@127.0.0.1:9100/metrics", "http://prom:<secret>@127.0.0.1:9100/metrics"],
    // The userinfo ends at the authority's last @, as URL parsers read it: none of it stays.
    ["http://prom:pa@ss@[fd7a:115c:a1e0::1]:9100/metrics", "http://prom:<secret>@[fd7a:115c:a1e0::1]:9100/metrics"],
    ["https://prom:@host/metrics", "https://prom:<secret>@host/metrics"],
    ["http://prom@host:9100/metrics", "http://prom@host:9100/metrics"],
    ["http://127.0.0.1:9100/metrics?who=a@b", "http://127.0.0.1:9100/metrics?who=a@b"],
    ["not a url", "not a url"],
  ])("%s is shown as %s", (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});

describe("an explicit --config path", () => {
  it("that does not exist is an error naming the file", () => {
    const path = join(dir, "missing.yaml");
    expect(() => loadConfig(path)).toThrow(ConfigError);
    expect(() => loadConfig(path)).toThrow(`${path}: no such config file`);
  });

  it("that is a directory is an error naming it", () => {
    expect(() => loadConfig(dir)).toThrow(new RegExp(`^${dir}: cannot read the config file`));
  });
});

// Each bad value: the error names the file, the key path and what was expected.
const badValues: { what: string; yaml: string; key: string; expected: RegExp }[] = [
  { what: "unknown top-level key", yaml: "scrapper: prom\n", key: "scrapper", expected: /unknown key \(known keys here: scraper, tailscale, ipv6/ },
  { what: "unknown nested key", yaml: "probes:\n  snmpd:\n    comunity: x\n", key: "probes.snmpd.comunity", expected: /unknown key \(known keys here: host, port, version, community, user\)/ },
  { what: "unknown key in a v3 user", yaml: "probes:\n  snmpd:\n    user: { name: a, authKey: abcdefgh, privKey: abcdefgh, level: authPriv }\n", key: "probes.snmpd.user.level", expected: /unknown key/ },
  { what: "wrong type: string for a list", yaml: "tailscale:\n  expectedTags: tag:monitor\n", key: "tailscale.expectedTags", expected: /^expected a list, got string "tag:monitor"$/ },
  { what: "wrong type: string for a boolean", yaml: "notifications:\n  inform: yes\n", key: "notifications.inform", expected: /expected true or false, got string "yes"/ },
  { what: "wrong type: list for a mapping", yaml: "probes:\n  snmpd: [1, 2]\n", key: "probes.snmpd", expected: /expected a mapping, got a list/ },
  { what: "wrong type: number for a string", yaml: "scraper: 42\n", key: "scraper", expected: /^expected a string, got number 42 \(quote it in YAML\)$/ },
  { what: "bad tag", yaml: "tailscale:\n  expectedTags: [monitor]\n", key: "tailscale.expectedTags[0]", expected: /^expected a tailnet tag like tag:monitor, got string "monitor"$/ },
  { what: "unparsable prefix", yaml: "ipv6:\n  allocations: [2001:db8:100::/129]\n", key: "ipv6.allocations[0]", expected: /^expected a prefix \(address\/length\) like 2001:db8:100::\/56 or 192.0.2.0\/24, got string "2001:db8:100::\/129"$/ },
  { what: "prefix without a length", yaml: "ipv6:\n  allocations: [\"2001:db8:100::\"]\n", key: "ipv6.allocations[0]", expected: /^expected a prefix .*, got string "2001:db8:100::"$/ },
  { what: "IPv4 prefix as an IPv6 allocation", yaml: "ipv6:\n  allocations: [10.0.0.0/8]\n", key: "ipv6.allocations[0]", expected: /^expected an IPv6 prefix like 2001:db8:100::\/56 \(this one is IPv4\), got string "10.0.0.0\/8"$/ },
  { what: "unparsable forward prefix", yaml: "firewall:\n  forwardPrefixes: [lan]\n", key: "firewall.forwardPrefixes[0]", expected: /^expected a prefix .*, got string "lan"$/ },
  { what: "bad duration", yaml: "probes:\n  timeout: 5 minutes\n", key: "probes.timeout", expected: /^expected a duration from 100ms to 1m \(like 500ms, 30s, 5m or 1h; a bare number is seconds\), got string "5 minutes"$/ },
  { what: "zero duration", yaml: "run:\n  interval: 0s\n", key: "run.interval", expected: /^expected a duration from 1s to 24h .*, got string "0s"$/ },
  { what: "bad enum (log level)", yaml: "log:\n  level: verbose\n", key: "log.level", expected: /expected one of trace, debug, info, warn, error, fatal, got string "verbose"/ },
  { what: "bad enum (SNMP version)", yaml: "probes:\n  snmpd:\n    version: 1\n", key: "probes.snmpd.version", expected: /expected one of 2c, 3, got number 1/ },
  { what: "bad enum (auth protocol)", yaml: "notifications:\n  version: 3\n  user: { name: a, authProtocol: sha1, authKey: abcdefgh, privKey: abcdefgh }\n", key: "notifications.user.authProtocol", expected: /expected one of md5, sha, sha224, sha256, sha384, sha512, got string "sha1"/ },
  { what: "port out of range", yaml: "probes:\n  snmpd:\n    port: 70000\n", key: "probes.snmpd.port", expected: /expected a whole number from 1 to 65535, got number 70000/ },
  { what: "port as a string", yaml: "probes:\n  snmpd:\n    port: \"161\"\n", key: "probes.snmpd.port", expected: /expected a whole number from 1 to 65535, got string "161"/ },
  { what: "port out of range in host:port", yaml: "notifications:\n  target: scraper:99999\n", key: "notifications.target", expected: /port from 1 to 65535, got string "scraper:99999"/ },
  { what: "bad firewall port", yaml: "firewall:\n  port: 0\n", key: "firewall.port", expected: /expected auto or a UDP port from 1 to 65535, got number 0/ },
  { what: "bad listen address", yaml: "receiver:\n  listen: [\"0.0.0.0:162\"]\n", key: "receiver.listen[0]", expected: /^expected udp, udp4 or udp6, an IP address \(not a name\) and a port from 1 to 65535, like udp6:\[::\]:162 or udp:0.0.0.0:162, got string "0.0.0.0:162"$/ },
  { what: "bad URL", yaml: "probes:\n  nodeExporter: { url: \"127.0.0.1:9100\" }\n", key: "probes.nodeExporter.url", expected: /expected an http\(s\) URL|expected a URL like/ },
  { what: "TLS settings for an http URL", yaml: "probes:\n  nodeExporter: { url: \"http://127.0.0.1:9100/metrics\", tls: { caFile: /etc/ssl/ne-ca.pem } }\n", key: "probes.nodeExporter.tls.caFile", expected: /^applies to https only, and probes.nodeExporter.url is http:\/\/127.0.0.1:9100\/metrics$/ },
  { what: "a relative caFile", yaml: "probes:\n  nodeExporter: { url: \"https://localhost:9100/metrics\", tls: { caFile: ne-ca.pem } }\n", key: "probes.nodeExporter.tls.caFile", expected: /^expected an absolute path to a PEM file, got string "ne-ca.pem"$/ },
  { what: "insecureSkipVerify not a boolean", yaml: "probes:\n  nodeExporter: { url: \"https://localhost:9100/metrics\", tls: { insecureSkipVerify: \"yes\" } }\n", key: "probes.nodeExporter.tls.insecureSkipVerify", expected: /expected true or false, got string "yes"/ },
  { what: "short v3 auth key", yaml: "probes:\n  snmpd:\n    version: 3\n    user: { name: mon, authKey: short, privKey: long-enough }\n", key: "probes.snmpd.user.authKey", expected: /^expected at least 8 characters \(RFC 3414 minimum\), got a string of 5 characters$/ },
  { what: "short v3 priv key", yaml: "notifications:\n  version: 3\n  user: { name: mon, authKey: long-enough, privKey: \"1234567\" }\n", key: "notifications.user.privKey", expected: /expected at least 8 characters/ },
  { what: "v3 without a user", yaml: "probes:\n  snmpd:\n    version: 3\n", key: "probes.snmpd.user", expected: /probes.snmpd.version is 3, so a v3 user is required/ },
  { what: "privProtocol without privKey", yaml: "probes:\n  snmpd:\n    version: 3\n    user: { name: mon, authKey: long-enough, privProtocol: aes }\n", key: "probes.snmpd.user.privKey", expected: /privProtocol is aes, so a privKey of at least 8 characters is required/ },
  { what: "v3 traps without an engine ID", yaml: "notifications:\n  version: 3\n  inform: false\n  user: { name: mon, authKey: long-enough, privKey: long-enough }\n", key: "notifications.engineId", expected: /fixed engine ID/ },
  { what: "bad engine ID", yaml: "notifications:\n  engineId: xyz\n", key: "notifications.engineId", expected: /expected an engine ID of 5 to 32 bytes in hex/ },
  { what: "top level is not a mapping", yaml: "- a\n- b\n", key: "(top level)", expected: /expected a mapping, got a list/ },
];

describe.each(badValues)("rejects $what", ({ yaml, key, expected }) => {
  it("with a ConfigError naming the file and the key", () => {
    const error = loadError(yaml);
    expect(error.key).toBe(key);
    expect(error.problem).toMatch(expected);
    expect(error.file).toMatch(/config-\d+\.yaml$/);
    expect(error.line).toBeGreaterThan(0);
    expect(error.message).toBe(`${error.file}: ${key}: ${error.problem} (line ${error.line})`);
  });
});

describe("bad YAML", () => {
  it("names the file, the line and the column", () => {
    const error = loadError("probes:\n  snmpd: { port: 161\n");
    expect(error.message).toMatch(/config-\d+\.yaml: line 3, column 1: not valid YAML: Flow map in block collection must be sufficiently indented and end with a }$/);
  });

  it("rejects a key given twice (the second would silently win)", () => {
    const error = loadError("scraper: a\nscraper: b\n");
    expect(error.message).toMatch(/not valid YAML: Map keys must be unique/);
  });

  it("does not quote the file: a syntax error next to a secret names the place only", () => {
    const error = loadError("notifications:\n  community: |s3cret-community\n");
    expect(error.message).toMatch(/config-\d+\.yaml: line 2, column \d+: not valid YAML: Block scalar header includes extra characters$/);
    expect(error.message).not.toContain("s3cret");
  });

  it("rejects tabs used for indentation", () => {
    expect(loadError("probes:\n\tsnmpd: {}\n").problem).toMatch(/not valid YAML/);
  });
});

describe("secrets in errors", () => {
  it("never echoes a community or key that has the wrong type", () => {
    const error = loadError("probes:\n  snmpd:\n    community: 86753091\n");
    expect(error.key).toBe("probes.snmpd.community");
    expect(error.problem).toMatch(/expected a string, got a number \(quote it in YAML\)/);
    expect(error.message).not.toContain("86753091");
    const user = loadError("probes:\n  snmpd:\n    version: 3\n    user: { name: mon, authKey: 1234567890123, privKey: long-enough }\n");
    expect(user.key).toBe("probes.snmpd.user.authKey");
    expect(user.message).not.toContain("1234567890123");
    const short = loadError("probes:\n  snmpd:\n    version: 3\n    user: { name: mon, authKey: sh0rt, privKey: long-enough }\n");
    expect(short.message).not.toContain("sh0rt");
    const communities = loadError("receiver:\n  communities: [ok-community, 4242424242]\n");
    expect(communities.key).toBe("receiver.communities[1]");
    expect(communities.message).not.toContain("4242424242");
    const url = loadError("probes:\n  nodeExporter:\n    url: ftp://prom:pa55word@host/metrics\n");
    expect(url.key).toBe("probes.nodeExporter.url");
    expect(url.problem).toBe('expected an http(s) URL, got string "ftp://prom:<secret>@host/metrics"');
  });
});

describe("the CLI with a bad config", () => {
  it("exits 2 for each kind of bad value, naming file and key", async () => {
    const paths = badValues.map((b) => file(b.yaml));
    // One process runs them all through runCli; the two tests below go through the real exit path.
    const runs = await runAgentBatch(paths.map((path) => ["status", "--json", "--config", path]));
    runs.forEach((run, i) => {
      const { what, key } = badValues[i];
      expect({ what, code: run.code, stdout: run.stdout }).toEqual({ what, code: 2, stdout: "" });
      expect(run.stderr).toContain(`edge-agent: bad config: ${paths[i]}: ${key}: `);
    });
  }, 120_000);

  it("exits 2 for bad YAML, naming file and line", async () => {
    const path = file("scraper: [\n");
    const run = await runAgent(["status", "--config", path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`edge-agent: bad config: ${path}: line `);
  }, 120_000);

  it("exits 2 naming a --config file that does not exist", async () => {
    const path = join(dir, "nope.yaml");
    const run = await runAgent(["status", "--config", path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`edge-agent: bad config: ${path}: no such config file (create it, or leave out --config to use the defaults)\n`);
  }, 120_000);
});

describe("keys named like an object's own properties", () => {
  it.each([
    ["toString: 1\n", "toString"],
    ["receiver:\n  constructor: 1\n", "receiver.constructor"],
    ["probes:\n  snmpd:\n    hasOwnProperty: 1\n", "probes.snmpd.hasOwnProperty"],
    ["__proto__: {}\n", "__proto__"],
    ["notifications:\n  user: { name: u, authKey: long-enough, privKey: long-enough, valueOf: 1 }\n", "notifications.user.valueOf"],
  ])("%j is an unknown key", (yaml, key) => {
    const error = loadError(yaml);
    expect(error.key).toBe(key);
    expect(error.problem).toMatch(/^unknown key \(known keys here: /);
  });
});

describe("durations have a minimum and a maximum", () => {
  // 600h overflowed Node's 32-bit timer (a heartbeat every millisecond), 0.0001 became 0 ms.
  it.each([
    ["run:\n  heartbeat: 600h\n", "run.heartbeat", "100ms to 24h"],
    ["run:\n  heartbeat: 0.0001\n", "run.heartbeat", "100ms to 24h"],
    ["run:\n  heartbeat: .inf\n", "run.heartbeat", "100ms to 24h"],
    ["run:\n  heartbeat: .nan\n", "run.heartbeat", "100ms to 24h"],
    ["run:\n  heartbeat: -5\n", "run.heartbeat", "100ms to 24h"],
    ["run:\n  heartbeat: 99ms\n", "run.heartbeat", "100ms to 24h"],
    ["run:\n  interval: 999ms\n", "run.interval", "1s to 24h"],
    ["run:\n  interval: 25h\n", "run.interval", "1s to 24h"],
    ["probes:\n  timeout: 61s\n", "probes.timeout", "100ms to 1m"],
    ["notifications:\n  timeout: 50ms\n", "notifications.timeout", "100ms to 1m"],
  ])("%j is refused", (yaml, key, range) => {
    const error = loadError(yaml);
    expect(error.key).toBe(key);
    expect(error.problem).toContain(`expected a duration from ${range} `);
  });

  it("takes each end of each range", () => {
    const low = loadConfig(file("run: { interval: 1s, heartbeat: 100ms }\nprobes: { timeout: 100ms }\nnotifications: { timeout: 0.1 }\n"));
    expect([low.run.intervalMs, low.run.heartbeatMs, low.probes.timeoutMs, low.notifications.timeoutMs]).toEqual([1000, 100, 100, 100]);
    const high = loadConfig(file("run: { interval: 24h, heartbeat: 1440m }\nprobes: { timeout: 1m }\nnotifications: { timeout: 60 }\n"));
    expect([high.run.intervalMs, high.run.heartbeatMs, high.probes.timeoutMs, high.notifications.timeoutMs]).toEqual([86_400_000, 86_400_000, 60_000, 60_000]);
  });
});

describe("values in errors", () => {
  // A scalar where a section belongs may be that section's secret; a secret is shown by kind only.
  it.each([
    ["notifications:\n  community s3cret\n", "notifications", "expected a mapping, got a string", "s3cret"],
    ["receiver:\n  communities: s3cret-community\n", "receiver.communities", "expected a list, got a string", "s3cret"],
    ["receiver:\n  users:\n    - { name: u, authKey: [s3cret-key], privProtocol: none }\n", "receiver.users[0].authKey", "expected a string, got a list", "s3cret"],
    ['receiver:\n  communities: [ok-community, ""]\n', "receiver.communities[1]", "expected a non-empty community, got a string of 0 characters", "ok-community"],
  ])("%j names the key but never the value", (yaml, key, problem, secret) => {
    const error = loadError(yaml);
    expect([error.key, error.problem]).toEqual([key, problem]);
    expect(error.message).not.toContain(secret);
  });

  it("cuts a long value or key short, saying how long it was", () => {
    const long = "x".repeat(500_000);
    const value = loadError(`log:\n  level: ${long}\n`);
    expect(value.message.length).toBeLessThan(300);
    expect(value.problem).toContain("... (500000 characters)");
    const key = loadError(`${long}: 1\n`);
    expect(key.message.length).toBeLessThan(400);
  });
});

describe("receiver.listen", () => {
  it.each([
    ['["udp:localhost:1162"]', "receiver.listen[0]"],
    ['["udp:0.0.0.0:162", "udp6:[fd7a::1:2]"]', "receiver.listen[1]"],
    ['["udp4:[::]:162"]', "receiver.listen[0]"],
    ['["udp6:0.0.0.0:162"]', "receiver.listen[0]"],
  ])("%s is refused at load, naming the entry", (listen, key) => {
    const error = loadError(`receiver:\n  listen: ${listen}\n`);
    expect(error.key).toBe(key);
    expect(error.problem).toMatch(/^expected udp, udp4 or udp6, an IP address \(not a name\)/);
  });

  it("refuses two entries `receive` could not bind together", () => {
    const error = loadError('receiver:\n  listen: ["udp6:[::]:1162", "udp:0.0.0.0:1162", "udp6:[::1]:1162", "udp:127.0.0.1:1163", "udp4:127.0.0.1:1163"]\n');
    expect(error.problems.map((p) => [p.key, p.line])).toEqual([
      ["receiver.listen[2]", 2],
      ["receiver.listen[4]", 2],
    ]);
    expect(error.problem).toBe("binds the same udp6 port 1162 as receiver.listen[0] (udp6:[::]:1162), so `receive` could not open both");
  });

  it("takes IPv6 and IPv4 wildcards on one port (the IPv6 one is made IPv6-only)", () => {
    expect(configFromObject({ receiver: { listen: ["udp6:[::]:162", "udp:0.0.0.0:162", "udp6:[::1]:1162"] } }, null).receiver.listen).toHaveLength(3);
  });

  it("`receive` exits 2 naming the key, before opening anything", async () => {
    const path = file('receiver:\n  listen: ["udp:localhost:1162"]\n');
    const run = await runAgent(["receive", "--config", path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`edge-agent: bad config: ${path}: receiver.listen[0]: expected udp, udp4 or udp6`);
  }, 120_000);
});

describe("a config with several problems", () => {
  const yaml = [
    "scraper: 42", //                                 line 1: wrong type
    "probes:",
    "  timeout: 600h", //                             line 3: out of range
    "  snmpd:",
    "    comunity: x", //                             line 5: unknown key
    "receiver:",
    "  listen:",
    "    - udp6:[::]:162",
    "    - udp:localhost:162", //                     line 9: a name, not an address
    "log: { level: verbose }", //                     line 10
  ].join("\n");

  it("reports all of them, each with its key and line, in file order", () => {
    const error = loadError(yaml);
    expect(error.problems.map((p) => [p.line, p.key])).toEqual([
      [1, "scraper"],
      [3, "probes.timeout"],
      [5, "probes.snmpd.comunity"],
      [9, "receiver.listen[1]"],
      [10, "log.level"],
    ]);
    expect(error.message.split("\n")).toHaveLength(5);
  });

  it("tells at most 20, then how many more there were", () => {
    const error = loadError(`tailscale:\n  expectedTags: [${Array.from({ length: 500 }, (_, i) => `bad${i}`).join(", ")}]\n`);
    expect(error.problems).toHaveLength(21);
    expect(error.problems[19].key).toBe("tailscale.expectedTags[19]");
    expect(error.message.split("\n").at(-1)).toBe(`${error.file}: ... and 480 more problems`);
  });

  it("the CLI exits 2 and prints one line per problem with file, key and line", async () => {
    const path = file(yaml);
    const run = await runAgent(["status", "--config", path]);
    expect(run.code).toBe(2);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe(`edge-agent: bad config: ${path}: scraper: expected a string, got number 42 (quote it in YAML) (line 1)`);
    expect(lines[2]).toBe(`edge-agent: bad config: ${path}: probes.snmpd.comunity: unknown key (known keys here: host, port, version, community, user) (line 5)`);
    for (const line of lines) expect(line).toMatch(new RegExp(`^edge-agent: bad config: ${path}: [a-z.\\[\\]0-9]+: .* \\(line \\d+\\)$`, "i"));
  }, 120_000);
});
