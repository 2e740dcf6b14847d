// The doctor's judges: each check's facts -> status, finding and fix, without I/O.
import { describe, expect, it } from "vitest";
import { configFromObject, ConfigError } from "../../agent/config";
import { judgeIpv4Nat, judgeIpv6Prefix } from "../../agent/doctor/checks/addresses";
import { judgeConfig } from "../../agent/doctor/checks/config";
import { judgeFirewallPort } from "../../agent/doctor/checks/firewall";
import { parseRegistration } from "../../agent/doctor/facts/agentx-served";
import { judgeAgentx, judgeNotification, judgeTextfileDir, parseAgentxMaster } from "../../agent/doctor/checks/outputs";
import { judgeFileSd, judgeNotifyPolicy, judgeReceiverConfig, judgeReceiverListen } from "../../agent/doctor/checks/receiver";
import { startupWarnings } from "../../agent/receiver/startup-warnings";
import { judgeNodeExporter, judgeSnmpd } from "../../agent/doctor/checks/services";
import { judgeMagicDns, judgeScraperPath, judgeTags, judgeTailscaled } from "../../agent/doctor/checks/tailnet";
import { judgeTailnetPolicy, type PolicySubjects } from "../../agent/doctor/checks/tailnet-policy";
import type { Check } from "../../agent/doctor/check";
import { createContext } from "../../agent/doctor/context";
import type { Finding } from "../../agent/doctor/finding";
import { CHECK_IDS } from "../../agent/doctor/registry";
import { runChecks } from "../../agent/doctor/run";
import { FIREWALL_FAILURES, RULESET_FAILURES, type RulesetFailure } from "../../agent/state/firewall";
import { IPV6_FAILURES } from "../../agent/state/ipv6";
import { SERVICE_FAILURES } from "../../agent/state/services";
import { TAILNET_FAILURES } from "../../agent/state/tailnet";
import { TAILNET_POLICY_FAILURES } from "../../agent/state/tailnet-policy";
import type { Ipv4Address } from "../../agent/probes/ipv4";
import type { FirewallState, Ipv6State, ScraperPeer, TailnetState, TailnetUnavailable } from "../../agent/state/node-state";

const config = configFromObject({ scraper: "scraper", ipv6: { allocations: ["2001:db8:100::/56"] } }, "/etc/edge-agent/config.yaml");

function v6(prefix: string | null, inAllocation: boolean | null, flags: Ipv6State["prefixes"][number]["addresses"][number]["flags"] = ["permanent"]): Ipv6State {
  if (!prefix) return { state: "ok", prefixes: [], primary: null };
  return { state: "ok", prefixes: [{ prefix, interface: "eth0", inAllocation, addresses: [{ address: prefix.replace("::/64", "::10"), prefixLength: 64, flags }] }], primary: prefix };
}

function peer(over: Partial<ScraperPeer> = {}): ScraperPeer {
  return { found: true, hostname: "scraper", dnsName: "scraper.example.ts.net.", ips: ["100.64.0.1", "fd7a:115c:a1e0::1"], tags: ["tag:scraper"], online: true, path: "direct", endpoint: "[2001:db8:200:1::1]:41641", family: "ipv6", relay: null, latencyMs: 12.3, ...over };
}

function tailnet(over: Partial<TailnetState> = {}): TailnetState {
  return { state: "Running", source: "localapi", version: "1.90.6", hostname: "node1", dnsName: "node1.example.ts.net", ips: ["100.101.102.103"], tags: ["tag:monitor"], missingTags: [], port: 41641, health: [], scraper: peer(), ...over };
}

const down: TailnetUnavailable = { state: "unavailable", code: "not-installed", error: "tailscaled is not running here: no LocalAPI socket at /run/tailscale/tailscaled.sock and no tailscale CLI", missingTags: ["tag:monitor"] };

function firewall(verdicts: Record<string, "accept" | "drop" | "unknown">, backend = "nftables"): FirewallState {
  return { state: "ok", port: 41641, portSource: "localapi", backend, notes: [], checks: Object.entries(verdicts).map(([id, verdict]) => ({ id, verdict, decidedBy: verdict === "drop" ? "inet filter input policy drop" : "rule 7", packet: {} as never })) };
}

describe("config", () => {
  it("is ok for a valid file, warns on defaults and on world-readable secrets, fails on a bad key", () => {
    expect(judgeConfig({ path: "/etc/edge-agent/config.yaml", config, error: null, mode: 0o100640 }).status).toBe("ok");
    const defaults = judgeConfig({ path: "/etc/edge-agent/config.yaml", config: configFromObject({}, null), error: null, mode: null });
    expect(defaults).toMatchObject({ status: "warn", finding: expect.stringContaining("no config file at /etc/edge-agent/config.yaml") });
    const secret = configFromObject({ notifications: { community: "s3cret-community" } }, "/etc/e.yaml");
    const open = judgeConfig({ path: "/etc/e.yaml", config: secret, error: null, mode: 0o100644 });
    expect(open).toMatchObject({ status: "warn", fix: "sudo chmod 0640 /etc/e.yaml" });
    expect(open.finding).toContain("notifications.community");
    expect(open.finding).not.toContain("s3cret");
    const basicAuth = configFromObject({ probes: { nodeExporter: { url: "http://prom:pa55word@127.0.0.1:9100/metrics" } } }, "/etc/e.yaml");
    const openAuth = judgeConfig({ path: "/etc/e.yaml", config: basicAuth, error: null, mode: 0o100644 });
    expect(openAuth).toMatchObject({ status: "warn", fix: "sudo chmod 0640 /etc/e.yaml" });
    expect(openAuth.finding).toContain("probes.nodeExporter.url");
    expect(openAuth.finding).not.toContain("pa55word");
    const bad = judgeConfig({ path: "/etc/e.yaml", config: null, error: new ConfigError("/etc/e.yaml", "probes.snmpd.port", "expected a whole number from 1 to 65535, got string \"x\""), mode: 0o100640 });
    expect(bad).toMatchObject({ status: "fail", finding: expect.stringContaining("probes.snmpd.port"), fix: expect.stringContaining("probes.snmpd.port in /etc/e.yaml") });
  });

  it("names every problem of a config with several, on one line, and every key in the fix", () => {
    const error = ConfigError.of("/etc/e.yaml", [
      { key: "scraper", problem: "expected a string, got number 5 (quote it in YAML)", line: 1, code: "invalid" },
      { key: "log.level", problem: 'expected one of trace, debug, info, warn, error, fatal, got string "x"', line: 4, code: "invalid" },
    ]);
    const f = judgeConfig({ path: "/etc/e.yaml", config: null, error, mode: 0o100640 });
    expect(f.finding).toBe('/etc/e.yaml: scraper: expected a string, got number 5 (quote it in YAML) (line 1); /etc/e.yaml: log.level: expected one of trace, debug, info, warn, error, fatal, got string "x" (line 4)');
    expect(f.fix).toBe("edit scraper, log.level in /etc/e.yaml (keys and defaults: man 5 edge-agent.yaml)");
  });

  it("tells a file that is no config file apart from one it may not read, by the error's code", () => {
    const fifo = new ConfigError("/etc/e.yaml", "(file)", "cannot read the config file: it is a FIFO, not a regular file", { code: "not-a-file" });
    expect(judgeConfig({ path: "/etc/e.yaml", config: null, error: fifo, mode: 0o010640 }).fix).toBe("point --config at the YAML file itself: a regular file of at most 1024 KiB (ls -lL /etc/e.yaml)");
    const denied = new ConfigError("/etc/e.yaml", "(file)", "cannot read the config file: EACCES", { code: "unreadable" });
    expect(judgeConfig({ path: "/etc/e.yaml", config: null, error: denied, mode: 0o100600 }).fix).toBe("check /etc/e.yaml's permissions: ls -l /etc/e.yaml");
  });
});

describe("ipv6-prefix", () => {
  it("is ok inside an allocation and names it", () => {
    expect(judgeIpv6Prefix(v6("2001:db8:100:1::/64", true), ["2001:db8:100::/56"])).toEqual({ status: "ok", finding: "2001:db8:100:1::/64 on eth0, inside 2001:db8:100::/56", fix: null });
  });
  it("fails outside every allocation, offering the config line", () => {
    const f = judgeIpv6Prefix(v6("2a01:4f8:1:2::/64", false), ["2001:db8:100::/56"]);
    expect(f.status).toBe("fail");
    expect(f.fix).toContain("allocations: [2001:db8:100::/56, 2a01:4f8:1:2::/64]");
  });
  it("warns with no global IPv6, a deprecated-only prefix, or IPv6 off", () => {
    expect(judgeIpv6Prefix(v6(null, null), []).status).toBe("warn");
    expect(judgeIpv6Prefix(v6("2001:db8:100:1::/64", true, ["deprecated"]), ["2001:db8:100::/56"]).finding).toContain("no usable address (deprecated)");
    expect(judgeIpv6Prefix({ state: "unavailable", code: "ipv6-disabled", error: "/proc/net/if_inet6 does not exist" }, []).status).toBe("warn");
  });
  it("is ok without allocations but says nothing was compared", () => {
    expect(judgeIpv6Prefix(v6("2a01:4f8:1:2::/64", null), []).finding).toContain("no ipv6.allocations configured");
  });
});

describe("ipv4-nat", () => {
  const cgnat: Ipv4Address[] = [{ address: "100.80.1.2", interface: "eth0", kind: "cgnat" }];
  const rfc1918: Ipv4Address[] = [{ address: "192.168.1.5", interface: "eth0", kind: "private" }];
  it("warns that CGNAT-only IPv4 with no global IPv6 goes relayed", () => {
    const f = judgeIpv4Nat(cgnat, v6(null, null));
    expect(f.status).toBe("warn");
    expect(f.finding).toBe("IPv4 only behind carrier-grade NAT (100.80.1.2 on eth0) and no global IPv6: paths to the scraper will go relayed through DERP");
    expect(judgeIpv4Nat(rfc1918, v6(null, null)).finding).toContain("behind NAT (192.168.1.5 on eth0)");
  });
  it("is ok behind NAT when a global IPv6 /64 carries direct paths, and with public IPv4", () => {
    expect(judgeIpv4Nat(cgnat, v6("2001:db8:100:1::/64", true)).status).toBe("ok");
    expect(judgeIpv4Nat([{ address: "203.0.113.5", interface: "eth0", kind: "public" }], v6(null, null))).toMatchObject({ status: "ok", finding: "public IPv4 203.0.113.5 on eth0" });
    expect(judgeIpv4Nat([], v6("2001:db8:100:1::/64", true)).finding).toContain("IPv6-only");
  });
  it("names an address in a documentation range as such, the one the firewall probe asks its IPv4 questions with", () => {
    const doc: Ipv4Address[] = [{ address: "192.0.2.2", interface: "eth0", kind: "documentation" }];
    expect(judgeIpv4Nat(doc, v6(null, null))).toMatchObject({ status: "warn", finding: expect.stringContaining("IPv4 only in an RFC 5737 documentation range (192.0.2.2 on eth0), which the internet does not route, and no global IPv6") });
    expect(judgeIpv4Nat(doc, v6("2001:db8:100:1::/64", true)).status).toBe("ok");
  });
});

describe("tailscaled", () => {
  it("fails when not installed, not running, logged out, stopped; ok when Running", () => {
    expect(judgeTailscaled(down, ["tag:monitor"], false)).toMatchObject({ status: "fail", fix: expect.stringContaining("sudo tailscale up --advertise-tags=tag:monitor") });
    expect(judgeTailscaled(down, ["tag:monitor"], true).fix).toContain("systemctl enable --now tailscaled");
    expect(judgeTailscaled(tailnet({ state: "NeedsLogin" }), ["tag:monitor"], true)).toEqual({ status: "fail", finding: "tailscaled is logged out (NeedsLogin)", fix: "sudo tailscale up --advertise-tags=tag:monitor" });
    expect(judgeTailscaled(tailnet({ state: "Stopped" }), [], true).fix).toBe("sudo tailscale up");
    expect(judgeTailscaled(tailnet(), ["tag:monitor"], true)).toMatchObject({ status: "ok", finding: "tailscaled 1.90.6 is running, logged in as node1.example.ts.net (100.101.102.103)" });
    expect(judgeTailscaled(tailnet({ health: ["Tailscale can't reach the configured DNS servers."] }), [], true).status).toBe("warn");
  });
});

describe("tags", () => {
  it("fails naming the missing tag and a command that keeps the tags the node has", () => {
    const f = judgeTags(tailnet({ tags: ["tag:server"], missingTags: ["tag:monitor"] }), ["tag:monitor"]);
    expect(f.status).toBe("fail");
    expect(f.fix).toContain("sudo tailscale up --advertise-tags=tag:server,tag:monitor");
    expect(judgeTags(tailnet(), ["tag:monitor"])).toEqual({ status: "ok", finding: "has tag:monitor", fix: null });
    expect(judgeTags(down, ["tag:monitor"]).status).toBe("skip");
  });
});

describe("magicdns", () => {
  it("is ok when the name resolves to the scraper's Tailscale IP", () => {
    expect(judgeMagicDns("scraper", { addresses: ["100.64.0.1"] }, tailnet()).status).toBe("ok");
  });
  it("fails when it resolves elsewhere or not at all; skips an address", () => {
    const elsewhere = judgeMagicDns("scraper", { addresses: ["192.0.2.80"] }, tailnet());
    expect(elsewhere).toMatchObject({ status: "fail", fix: expect.stringContaining("scraper: scraper.example.ts.net") });
    expect(judgeMagicDns("scraper", { addresses: null, error: "getaddrinfo ENOTFOUND scraper", code: "ENOTFOUND" }, tailnet())).toMatchObject({ status: "fail", fix: expect.stringContaining("--accept-dns") });
    expect(judgeMagicDns("100.64.0.1", null, tailnet()).status).toBe("skip");
    expect(judgeMagicDns("scraper", { addresses: ["100.64.0.1"] }, down).status).toBe("warn");
    expect(judgeMagicDns("scraper", { addresses: null, error: "getaddrinfo EAI_AGAIN scraper", code: "EAI_AGAIN" }, down).status).toBe("skip");
  });
});

describe("scraper-path", () => {
  const state = (t: TailnetState | TailnetUnavailable, ipv6 = v6("2001:db8:100:1::/64", true), fw?: FirewallState) => ({ tailnet: t, ipv6, firewall: fw });
  it("is ok direct over IPv6", () => {
    expect(judgeScraperPath(state(tailnet()), [], config)).toMatchObject({ status: "ok", finding: "direct over IPv6 to scraper.example.ts.net via [2001:db8:200:1::1]:41641, 12.3 ms" });
  });
  it("warns on relayed, naming the firewall verdict and the missing IPv6 as causes", () => {
    const relayed = tailnet({ scraper: peer({ path: "relay", relay: "fra", endpoint: null, family: null, latencyMs: 45.6 }) });
    const byFirewall = judgeScraperPath(state(relayed, v6("2001:db8:100:1::/64", true), firewall({ "inbound-ipv6": "drop", "outbound-ipv6": "accept" })), [], config);
    expect(byFirewall.status).toBe("warn");
    expect(byFirewall.finding).toBe("relayed through DERP fra to scraper.example.ts.net, 45.6 ms: likely because the firewall drops tailscaled's UDP 41641 in over IPv6");
    expect(byFirewall.fix).toBe("sudo nft add rule inet filter input udp dport 41641 accept");
    const byNoV6 = judgeScraperPath(state(relayed, v6(null, null)), [{ address: "100.80.1.2", interface: "eth0", kind: "cgnat" }], config);
    expect(byNoV6.finding).toContain("no global IPv6 /64 and its IPv4 is behind carrier-grade NAT");
  });
  it("warns direct over IPv4, fails offline or no matching peer, skips on the scraper itself", () => {
    expect(judgeScraperPath(state(tailnet({ scraper: peer({ endpoint: "198.51.100.7:41641", family: "ipv4" }) }), v6(null, null)), [], config).finding).toContain("over IPv4 (198.51.100.7:41641");
    expect(judgeScraperPath(state(tailnet({ scraper: peer({ path: "offline", online: false }) })), [], config).status).toBe("fail");
    expect(judgeScraperPath(state(tailnet({ scraper: { ...peer(), found: false } })), [], config).status).toBe("fail");
    expect(judgeScraperPath(state(tailnet({ hostname: "scraper", dnsName: "scraper.example.ts.net" })), [], config).status).toBe("skip");
  });
});

describe("firewall-port", () => {
  it("skips without verdicts, fails on a drop with the rule for the backend, ok when all accept", () => {
    expect(judgeFirewallPort(undefined, 41641, "auto")).toMatchObject({ status: "skip", finding: expect.stringContaining("firewall probe did not run") });
    expect(judgeFirewallPort({ state: "unavailable", code: "probe-error", error: "nft: Operation not permitted" }, 41641, "auto")).toMatchObject({ status: "skip", fix: expect.stringContaining("sudo edge-agent doctor") });
    const unread = { ...firewall({ "inbound-ipv6": "unknown", "outbound-ipv6": "unknown" }, "none"), checks: ["inbound-ipv6", "outbound-ipv6"].map((id) => ({ id, verdict: "unknown" as const, decidedBy: "x", reason: "reading the ruleset needs CAP_NET_ADMIN: run as root" })), unreadable: { code: "needs-cap-net-admin" as const, error: "reading the ruleset needs CAP_NET_ADMIN: run as root" } };
    expect(judgeFirewallPort(unread, 41641, "auto")).toMatchObject({ status: "skip", finding: "cannot read the firewall ruleset: reading the ruleset needs CAP_NET_ADMIN: run as root", fix: "sudo edge-agent doctor --check firewall-port" });
    const drop = judgeFirewallPort(firewall({ "inbound-ipv6": "accept", "outbound-ipv4": "drop" }, "iptables-legacy"), 41641, "auto");
    expect(drop).toMatchObject({ status: "fail", fix: "sudo iptables -I OUTPUT -p udp --sport 41641 -j ACCEPT" });
    expect(judgeFirewallPort(firewall({ "inbound-ipv6": "accept", "inbound-ipv4": "accept", "outbound-ipv6": "accept", "outbound-ipv4": "accept" }), 41641, "auto")).toEqual({
      status: "ok",
      finding: "tailscaled's UDP 41641 passes through nftables: in over IPv6, in over IPv4, out over IPv6, out over IPv4",
      fix: null,
    });
    expect(judgeFirewallPort(firewall({ "inbound-ipv6": "accept" }), 12345, 41641)).toMatchObject({ status: "warn", fix: "firewall: { port: auto }" });
    expect(judgeFirewallPort(firewall({ "inbound-ipv6": "unknown" }), 41641, "auto").status).toBe("warn");
    // Questions with no packet (no global IPv4 here) are not verdicts: left out, and said so.
    const v6only = firewall({ "inbound-ipv6": "accept", "outbound-ipv6": "accept" });
    v6only.checks.push({ id: "inbound-ipv4", verdict: "unknown", decidedBy: "no packet", reason: "the host has no global IPv4 address" });
    expect(judgeFirewallPort(v6only, 41641, "auto")).toMatchObject({ status: "ok", finding: "tailscaled's UDP 41641 passes through nftables: in over IPv6, out over IPv6; not asked in over IPv4: the host has no global IPv4 address" });
    expect(judgeFirewallPort({ ...v6only, checks: v6only.checks.slice(2) }, 41641, "auto").status).toBe("skip");
  });
});

describe("node-exporter and snmpd", () => {
  const ne = { url: "http://127.0.0.1:9100/metrics", up: true, version: "1.9.0", tailnetReachable: true as boolean | null };
  it("ok on both addresses; fail when only on loopback, with the listen-address fix", () => {
    expect(judgeNodeExporter(ne, ["100.101.102.103"], true).status).toBe("ok");
    const local = judgeNodeExporter({ ...ne, tailnetReachable: false, tailnetError: "ECONNREFUSED" }, ["100.101.102.103"], true);
    expect(local).toMatchObject({ status: "fail", fix: expect.stringContaining('ARGS="--web.listen-address=:9100"') });
    expect(judgeNodeExporter({ ...ne, up: false, error: "connect ECONNREFUSED 127.0.0.1:9100" }, [], false).fix).toBe("sudo apt install prometheus-node-exporter");
    expect(judgeNodeExporter({ ...ne, up: false, error: "connect ECONNREFUSED 127.0.0.1:9100" }, [], true).fix).toMatch(/^sudo systemctl enable --now prometheus-node-exporter/);
    // Installed and listening, but the URL is not served as configured (a 401 here): the URL is the fix.
    const refused = judgeNodeExporter({ ...ne, up: false, error: "http://prom:<secret>@127.0.0.1:9100/metrics answered HTTP 401: node-exporter refused the URL's credentials" }, [], true, true);
    expect(refused).toMatchObject({ status: "fail", finding: expect.stringContaining("HTTP 401"), fix: expect.stringMatching(/^check probes\.nodeExporter\.url against node-exporter's flags .*basic_auth_users/) });
    expect(judgeNodeExporter({ ...ne, tailnetReachable: null }, [], true).status).toBe("warn");
  });
  it("snmpd: fail down or loopback-only, ok on both", () => {
    const sd = { target: "127.0.0.1:161", up: true, sysDescr: "Linux node1", sysUpTimeSeconds: 5, tailnetReachable: true as boolean | null };
    expect(judgeSnmpd(sd, ["100.101.102.103"], true).status).toBe("ok");
    expect(judgeSnmpd({ ...sd, tailnetReachable: false }, ["100.101.102.103"], true).fix).toContain("agentaddress udp:161,udp6:161");
    expect(judgeSnmpd({ ...sd, up: false, error: "no answer" }, [], false).fix).toBe("sudo apt install snmpd");
    expect(judgeSnmpd({ ...sd, up: false, code: "access-denied", error: "refused" }, [], true).fix).toContain("refuses the request");
    expect(judgeSnmpd({ ...sd, up: false, code: "not-listening", error: "nothing listens" }, [], true).fix).toContain("sudo systemctl enable --now snmpd");
  });
});

describe("outputs", () => {
  const dir = { directory: "/var/lib/prometheus/node-exporter", realPath: "/var/lib/prometheus/node-exporter", exists: true, writable: true, daemonUserWritable: null, daemonUserExists: true };
  const source = { source: "prometheus-node-exporter pid 42's arguments", directory: "/var/lib/prometheus/node-exporter", enabled: true };
  it("textfile-dir: ok when writable and node-exporter's; fail otherwise, naming the right directory", () => {
    expect(judgeTextfileDir(dir, source, source.directory).status).toBe("ok");
    expect(judgeTextfileDir(dir, { ...source, directory: "/srv/textfile" }, "/srv/textfile")).toMatchObject({ status: "fail", fix: "textfile: { directory: /srv/textfile }" });
    expect(judgeTextfileDir({ ...dir, exists: false, error: "ENOENT: no such file or directory", code: "ENOENT" }, source, source.directory)).toMatchObject({ status: "fail", finding: "/var/lib/prometheus/node-exporter does not exist" });
    expect(judgeTextfileDir({ ...dir, exists: false, error: "EACCES: permission denied", code: "EACCES" }, source, source.directory).finding).toContain("cannot be reached: EACCES");
    expect(judgeTextfileDir({ ...dir, writable: false, error: "EROFS" }, source, source.directory).finding).toContain("not writable");
    expect(judgeTextfileDir({ ...dir, daemonUserWritable: false }, source, source.directory).finding).toContain("not by the edge-agent user");
    expect(judgeTextfileDir(dir, { ...source, enabled: false }, source.directory).status).toBe("fail");
    expect(judgeTextfileDir(dir, null, null).status).toBe("warn");
  });
  it("textfile-dir: before the package has created the edge-agent user, the fix installs the package first (install -o edge-agent would fail: invalid user)", () => {
    const noUser = { ...dir, daemonUserExists: false };
    expect(judgeTextfileDir({ ...dir, exists: false, error: "ENOENT: no such file or directory", code: "ENOENT" }, source, source.directory).fix).toBe("sudo install -d -o edge-agent -m 0755 /var/lib/prometheus/node-exporter");
    expect(judgeTextfileDir({ ...noUser, exists: false, error: "ENOENT: no such file or directory", code: "ENOENT" }, source, source.directory).fix).toBe(
      "install the edge-agent package first (it creates the edge-agent user), then: sudo install -d -o edge-agent -m 0755 /var/lib/prometheus/node-exporter",
    );
    expect(judgeTextfileDir({ ...noUser, writable: false, error: "EACCES" }, source, source.directory).fix).toMatch(/^install the edge-agent package first/);
  });
  it("before the package ships the units, starting them is preceded by installing it (systemctl: Unit not found)", () => {
    const up = { connect: { connected: true, ms: 1 }, dropInInstalled: true, object: { state: "absent" as const } };
    expect(judgeAgentx(config, { ...up, daemon: { pid: null, textfile: null, unitInstalled: true } }).fix).toBe("sudo systemctl enable --now edge-agent");
    expect(judgeAgentx(config, { ...up, daemon: { pid: null, textfile: null, unitInstalled: false } }).fix).toBe("install the edge-agent package first (it ships edge-agent.service), then: sudo systemctl enable --now edge-agent");
    const receiverFix = "install the edge-agent package first (it ships edge-agent-receiver.service), then: sudo systemctl enable --now edge-agent-receiver";
    expect(judgeReceiverListen({ listen: ["udp:0.0.0.0:162"], sockets: [], owners: new Map(), unitInstalled: false }).fix).toBe(receiverFix);
    expect(judgeReceiverListen({ listen: ["udp:0.0.0.0:162"], sockets: [], owners: new Map(), unitInstalled: true }).fix).toBe("sudo systemctl enable --now edge-agent-receiver");
    const now = Date.now();
    expect(judgeFileSd({ path: "/f", mtimeMs: null, error: "ENOENT", targets: null, nowMs: now, receiver: null, unitInstalled: false }, config).fix).toMatch(new RegExp(`^${receiverFix.replace(/[()]/g, "\\$&")}; Prometheus reads it`));
    expect(judgeFileSd({ path: "/f", mtimeMs: now - 1000, targets: 1, nowMs: now, receiver: null, unitInstalled: false }, config).fix).toBe(receiverFix);
  });
  it("agentx: ok only when edgeAgentVersion.0 answers through snmpd; refused, not registered, not running and hidden by the view each fail with their fix", () => {
    expect(parseAgentxMaster("tcp:[::1]:705")).toEqual({ host: "::1", port: 705 });
    const up = { connect: { connected: true, ms: 1 }, daemon: { pid: 4242, textfile: { registered: true } }, dropInInstalled: true };
    const version = "edgeAgentVersion.0 (1.3.6.1.3.9163.1.19.0)";
    expect(judgeAgentx(config, { ...up, object: { state: "value", value: "0.1.0" } })).toEqual({
      status: "ok",
      finding: `snmpd at 127.0.0.1:161 serves EDGE-AGENT-MIB through AgentX to community "public": ${version} = 0.1.0`,
      fix: null,
    });
    // The master listening is not enough any more: that was ok while the bundle registered nothing.
    expect(judgeAgentx(config, { ...up, object: { state: "absent" } })).toMatchObject({ status: "fail", finding: expect.stringContaining("snmpd's view for community \"public\" does not include 1.3.6.1.3.9163.1"), fix: expect.stringContaining("systemonly") });
    expect(judgeAgentx(config, { ...up, daemon: { pid: 4242, textfile: { registered: false } }, object: { state: "absent" } })).toMatchObject({ status: "fail", finding: expect.stringContaining("edge-agent run (pid 4242) is running but its textfile says its AgentX objects are not registered"), fix: expect.stringContaining("journalctl -u edge-agent") });
    expect(judgeAgentx(config, { ...up, daemon: { pid: 4242, textfile: null }, object: { state: "absent" } })).toMatchObject({ status: "fail", fix: expect.stringContaining("journalctl -u edge-agent") });
    // A daemon that just stopped leaves a textfile saying it was registered: no process, not the view.
    expect(judgeAgentx(config, { ...up, daemon: { pid: null, textfile: { registered: true } }, object: { state: "absent" } })).toMatchObject({ status: "fail", finding: expect.stringContaining("no edge-agent run is running here"), fix: "sudo systemctl enable --now edge-agent" });
    expect(judgeAgentx(config, { ...up, object: { state: "unanswered", error: "Request timed out" } })).toMatchObject({ status: "fail", fix: "see the snmpd check (probes.snmpd)" });
    const refused = { ...up, connect: { connected: false, ms: 1, code: "ECONNREFUSED", error: "connect ECONNREFUSED" }, object: null };
    expect(judgeAgentx(config, { ...refused, dropInInstalled: false })).toMatchObject({
      status: "fail",
      fix: "in /etc/snmp/snmpd.conf.d/edge-agent.conf: master agentx; agentXSocket tcp:127.0.0.1:705,unix:/var/agentx/master; view systemonly included .1.3.6.1.3.9163.1 (one per line), then sudo systemctl restart snmpd",
    });
    expect(judgeAgentx(config, refused).fix).toMatch(/^sudo systemctl restart snmpd /);
    expect(judgeAgentx(configFromObject({ agentx: { enabled: false } }, null), null).status).toBe("skip");
  });
  it("agentx: reads the daemon's registration from its textfile", () => {
    expect(parseRegistration("edge_agent_up 1\nedge_agent_agentx_registered 1\n")).toEqual({ registered: true });
    expect(parseRegistration("edge_agent_agentx_registered 0\n")).toEqual({ registered: false });
    expect(parseRegistration("")).toEqual({ registered: null });
  });
  it("notification: ok with its time, fail without an ack, warn for unacknowledged traps", () => {
    expect(judgeNotification(config, [{ configured: "scraper:162", acknowledged: true, rttMs: 14 }])).toEqual({ status: "ok", finding: "inform to scraper:162 acknowledged in 14 ms", fix: null });
    expect(judgeNotification(config, [{ configured: "scraper:162", acknowledged: false, rttMs: null, error: "RequestTimedOutError", failure: "send-failed" }]).status).toBe("fail");
    expect(judgeNotification(configFromObject({ notifications: { inform: false } }, null), [{ configured: "scraper:162", acknowledged: false, rttMs: null }]).status).toBe("warn");
  });
  it("notification: reports each target, and one that does not answer fails the check while the other answers", () => {
    const two = configFromObject({ notifications: { targets: ["scraper-a:162", "scraper-b:162"] } }, null);
    const a = { configured: "scraper-a:162", acknowledged: true, rttMs: 3, target: "udp:100.64.0.1:162" };
    const b = { configured: "scraper-b:162", acknowledged: false, rttMs: null, error: "getaddrinfo ENOTFOUND", failure: "unresolvable" as const };
    const both = judgeNotification(two, [a, { ...b, configured: "scraper-b:162", acknowledged: true, rttMs: 5, error: undefined, failure: undefined, target: "udp:100.64.0.2:162" }]);
    expect(both).toEqual({ status: "ok", finding: "inform to scraper-a:162 (udp:100.64.0.1:162) acknowledged in 3 ms; inform to scraper-b:162 (udp:100.64.0.2:162) acknowledged in 5 ms", fix: null });
    const one = judgeNotification(two, [a, b]);
    expect(one.status).toBe("fail");
    expect(one.finding).toMatch(/^inform to scraper-a:162 .* acknowledged in 3 ms; no notification sent to scraper-b:162: getaddrinfo ENOTFOUND$/);
    expect(one.fix).toMatch(/magicdns/);
  });
});

describe("tailnet-policy", () => {
  const who: PolicySubjects = { nodeTag: "tag:monitor", scraperTag: "tag:scraper", user: "edge-agent", isScraper: false };
  const accept = (id: "scrape-node-exporter" | "poll-snmpd", rule: number) => ({ id, verdict: "accept" as const, decidedBy: `rule ${rule}: {"SrcIPs":["100.64.0.1"]}` });

  it("ok names the rule that admits each flow", () => {
    expect(judgeTailnetPolicy({ state: "ok", source: "ipn-bus", flows: [accept("scrape-node-exporter", 0), accept("poll-snmpd", 1)] }, who)).toEqual({
      status: "ok",
      finding: "this node's tailscaled admits the scraper's scrape-node-exporter (tcp/9100) by rule 0, poll-snmpd (udp/161) by rule 1",
      fix: null,
    });
  });

  it("a flow the policy drops fails with the entry to add, in acls and grants syntax, with the node's and the scraper's tags", () => {
    const f = judgeTailnetPolicy({ state: "ok", source: "ipn-bus", flows: [{ id: "scrape-node-exporter", verdict: "drop", decidedBy: "default deny: no rule of 2 admits tcp/9100 from 100.64.0.1 to 100.101.102.103" }, accept("poll-snmpd", 1)] }, { ...who, nodeTag: "tag:node", scraperTag: "tag:prom" });
    expect(f).toEqual({
      status: "fail",
      finding: "this node's tailscaled drops the scraper's scrape-node-exporter (tcp/9100): default deny: no rule of 2 admits tcp/9100 from 100.64.0.1 to 100.101.102.103",
      fix: 'add to the tailnet policy\'s "acls": {"action": "accept", "src": ["tag:prom"], "dst": ["tag:node:9100"], "proto": "tcp"} (in "grants": {"src": ["tag:prom"], "dst": ["tag:node"], "ip": ["tcp:9100"]})',
    });
  });

  it("shields-up fails with the command that lowers them, whatever the policy says", () => {
    const reason = "tailscaled on this node runs with shields up and refuses every incoming connection whatever the policy says: sudo tailscale set --shields-up=false";
    const flows = (["scrape-node-exporter", "poll-snmpd"] as const).map((id) => ({ id, verdict: "drop" as const, decidedBy: "shields-up", reason }));
    expect(judgeTailnetPolicy({ state: "ok", source: "ipn-bus", flows }, who)).toEqual({ status: "fail", finding: `this node's tailscaled drops the scraper's scrape-node-exporter (tcp/9100) and poll-snmpd (udp/161): shields-up (${reason})`, fix: "sudo tailscale set --shields-up=false" });
  });

  it("without the LocalAPI permission: a warning whose fix is the command that grants it to this user", () => {
    const flows = (["scrape-node-exporter", "poll-snmpd"] as const).map((id) => ({ id, verdict: "unknown" as const, decidedBy: "localapi-permission", reason: "tailscaled on this node gives its packet filter only to root or its operator" }));
    const f = judgeTailnetPolicy({ state: "ok", source: null, flows }, who);
    expect(f.status).toBe("warn");
    expect(f.fix).toMatch(/^sudo tailscale set --operator=edge-agent /);
  });

  it("an unreadable filter fails with its code's fix; without tailscaled, or on the scraper itself, it is skipped", () => {
    expect(judgeTailnetPolicy({ state: "unavailable", code: "no-socket", error: "no tailscaled LocalAPI socket at /x" }, who)).toMatchObject({ status: "fail", fix: expect.stringContaining("tailscale.socket") });
    expect(judgeTailnetPolicy({ state: "unavailable", code: "no-scraper", error: "the scraper is not a peer" }, who)).toMatchObject({ status: "fail", fix: expect.stringContaining('"dst": ["tag:monitor:161"], "proto": "udp"}, {"action": "accept", "src": ["tag:monitor"], "dst": ["tag:scraper:162"], "proto": "udp"}') });
    expect(judgeTailnetPolicy({ state: "unavailable", code: "no-scraper", error: "the scraper is not a peer" }, { ...who, isScraper: true }).status).toBe("skip");
    expect(judgeTailnetPolicy({ state: "unavailable", code: "tailnet-unavailable", error: "x" }, who).status).toBe("skip");
  });
});

describe("receiver", () => {
  const sockets = [{ family: "ipv6" as const, address: "::", port: 162, inode: 7 }, { family: "ipv4" as const, address: "0.0.0.0", port: 162, inode: 8 }];
  it("receiver-listen: ok when edge-agent receive holds the ports, fail when nothing or another daemon does", () => {
    const owners = new Map([[7, { pid: 10, comm: "node", cmdline: ["node", "/usr/bin/edge-agent", "receive"] }], [8, { pid: 10, comm: "node", cmdline: ["node", "/usr/bin/edge-agent", "receive"] }]]);
    expect(judgeReceiverListen({ listen: ["udp6:[::]:162", "udp:0.0.0.0:162"], sockets, owners })).toMatchObject({ status: "ok", finding: expect.stringContaining("pid 10") });
    expect(judgeReceiverListen({ listen: ["udp6:[::]:162"], sockets: [], owners: new Map() })).toMatchObject({ status: "fail", fix: "sudo systemctl enable --now edge-agent-receiver" });
    const trapd = new Map([[8, { pid: 11, comm: "snmptrapd", cmdline: ["/usr/sbin/snmptrapd"] }]]);
    expect(judgeReceiverListen({ listen: ["udp:0.0.0.0:162"], sockets: [sockets[1]], owners: trapd }).finding).toContain("snmptrapd (pid 11)");
  });
  it("receiver-file-sd: fresh when written by the running receiver; fails when older than it, stale, absent or not a target list", () => {
    const now = Date.parse("2026-11-28T12:00:00Z");
    const started = now - 3_600_000;
    const running = { pid: 10, startedMs: started };
    // Written at start an hour ago and not since (the targets did not change): fresh.
    expect(judgeFileSd({ path: "/f.yml", mtimeMs: started + 200, targets: 3, nowMs: now, receiver: running }, config)).toEqual({ status: "ok", finding: "/f.yml: 3 targets, written 60 min ago by the running receiver (pid 10)", fix: null });
    const before = judgeFileSd({ path: "/f.yml", mtimeMs: started - 86_400_000, targets: 3, nowMs: now, receiver: running }, config);
    expect(before).toMatchObject({ status: "fail", finding: expect.stringContaining("before the running receiver (pid 10) started 60 min ago: it cannot write the file") });
    expect(judgeFileSd({ path: "/f.yml", mtimeMs: now - 40_000, targets: 1, nowMs: now, receiver: null }, config)).toMatchObject({ status: "warn", finding: expect.stringContaining("1 target, written 40 s ago, but no `edge-agent receive` runs here") });
    expect(judgeFileSd({ path: "/f.yml", mtimeMs: now - 3 * 3_600_000, targets: 3, nowMs: now, receiver: null }, config).finding).toContain("longer than 3 heartbeats (15 min), and no receiver runs to keep it");
    expect(judgeFileSd({ path: "/f.yml", mtimeMs: null, error: "ENOENT", targets: null, nowMs: now, receiver: null }, config).status).toBe("fail");
    expect(judgeFileSd({ path: "/f.yml", mtimeMs: now, targets: null, parseError: "bad", nowMs: now, receiver: running }, config).status).toBe("fail");
  });
  it("receiver-config: fails without credentials, warns when new senders cannot be verified, ok otherwise", () => {
    const judge = (receiver: Record<string, unknown>, socket: string | null) => {
      const c = configFromObject({ receiver }, null);
      return judgeReceiverConfig(startupWarnings(c, socket !== null), socket, c.receiver.allowSources);
    };
    expect(judge({ communities: ["c"] }, "/run/tailscale/tailscaled.sock")).toEqual({ status: "ok", finding: "credentials configured; senders are verified with tailscaled whois (/run/tailscale/tailscaled.sock)", fix: null });
    expect(judge({ communities: ["c"], allowSources: ["100.64.0.0/10"] }, null)).toMatchObject({ status: "ok", finding: "credentials configured; senders are verified with receiver.allowSources (100.64.0.0/10)" });
    expect(judge({}, "/s")).toMatchObject({ status: "fail", finding: expect.stringContaining("every notification will be refused"), fix: expect.stringContaining("receiver.communities") });
    expect(judge({ communities: ["c"] }, null)).toMatchObject({ status: "warn", finding: expect.stringContaining("refused as unverified"), fix: expect.stringContaining("receiver.allowSources") });
    expect(judge({ communities: ["c"], trustClaimedAddresses: true }, null)).toMatchObject({ status: "warn", finding: expect.stringContaining("any peer that lists its own address") });
  });
});

describe("every check's findings that are not ok say what to do", () => {
  const now = Date.parse("2026-11-28T12:00:00Z");
  const ne = { url: "http://127.0.0.1:9100/metrics", up: false, version: null, error: "connect ECONNREFUSED 127.0.0.1:9100", tailnetReachable: null };
  const sd = { target: "127.0.0.1:161", up: false, sysDescr: null, sysUpTimeSeconds: null, error: "no answer", tailnetReachable: null };
  const dir = { directory: "/d", realPath: "/d", exists: true, writable: true, daemonUserWritable: null, daemonUserExists: false };
  const source = { source: "ARGS", directory: "/d", enabled: true };
  const up = { connect: { connected: true, ms: 1 }, daemon: { pid: 1, textfile: { registered: true } }, dropInInstalled: false };
  const unread = (code: RulesetFailure) => ({ ...firewall({}, "none"), checks: [{ id: "inbound-ipv6", verdict: "unknown" as const, decidedBy: "x", reason: "x" }], unreadable: { code, error: "x" } });
  const relayed = tailnet({ scraper: peer({ path: "relay", relay: "fra", endpoint: null, family: null }) });
  const path = (t: TailnetState | TailnetUnavailable, ipv6 = v6(null, null)) => judgeScraperPath({ tailnet: t, ipv6 }, [], config);
  const policySubjects = { nodeTag: "tag:monitor", scraperTag: "tag:scraper", user: "edge-agent", isScraper: false };
  // Each check's non-ok outcomes, one per branch of its judge (and the runner's own).
  const outcomes: Record<string, Finding[]> = {
    config: [
      judgeConfig({ path: "/e.yaml", config: null, error: new ConfigError("/e.yaml", "scraper", "expected a string"), mode: null }),
      ...(["missing", "unreadable", "yaml", "not-a-file"] as const).map((code) => judgeConfig({ path: "/e.yaml", config: null, error: new ConfigError("/e.yaml", "(file)", "x", { code }), mode: null })),
      judgeConfig({ path: "/e.yaml", config: configFromObject({}, null), error: null, mode: null }),
      judgeConfig({ path: "/e.yaml", config: configFromObject({ notifications: { community: "s3cret" } }, "/e.yaml"), error: null, mode: 0o100644 }),
    ],
    "ipv6-prefix": [
      ...IPV6_FAILURES.map((code) => judgeIpv6Prefix({ state: "unavailable", code, error: "x" }, [])),
      judgeIpv6Prefix(v6(null, null), []),
      judgeIpv6Prefix(v6("2a01:4f8:1:2::/64", false), ["2001:db8:100::/56"]),
      judgeIpv6Prefix(v6("2001:db8:100:1::/64", true, ["deprecated"]), []),
    ],
    "ipv4-nat": [
      judgeIpv4Nat([], v6(null, null)),
      judgeIpv4Nat([{ address: "100.80.1.2", interface: "eth0", kind: "cgnat" }], v6(null, null)),
      judgeIpv4Nat([{ address: "192.168.1.2", interface: "eth0", kind: "private" }], v6(null, null)),
    ],
    tailscaled: [
      judgeTailscaled(down, [], false),
      ...TAILNET_FAILURES.map((code) => judgeTailscaled({ ...down, code }, [], true)),
      ...(["NeedsLogin", "NeedsMachineAuth", "Stopped", "Starting"] as const).map((state) => judgeTailscaled(tailnet({ state }), [], true)),
      judgeTailscaled(tailnet({ health: ["x"] }), [], true),
    ],
    tags: [judgeTags(down, ["tag:monitor"]), judgeTags(tailnet({ tags: [], missingTags: ["tag:monitor"] }), ["tag:monitor"])],
    magicdns: [
      judgeMagicDns("100.64.0.1", null, tailnet()),
      judgeMagicDns("scraper", { addresses: null, error: "ENOTFOUND", code: "ENOTFOUND" }, down),
      judgeMagicDns("scraper", { addresses: null, error: "ENOTFOUND", code: "ENOTFOUND" }, tailnet()),
      judgeMagicDns("scraper", { addresses: ["100.64.0.1"] }, down),
      judgeMagicDns("scraper", { addresses: ["192.0.2.80"] }, tailnet()),
      judgeMagicDns("scraper", { addresses: ["192.0.2.80"] }, tailnet({ scraper: peer({ dnsName: "" }) })),
    ],
    "scraper-path": [
      path(down),
      path(tailnet({ hostname: "scraper" })),
      path(tailnet({ scraper: { ...peer(), found: false } })),
      path(tailnet({ scraper: peer({ family: "ipv4", endpoint: "198.51.100.7:41641" }) })),
      path(tailnet({ scraper: peer({ family: "ipv4", endpoint: "198.51.100.7:41641" }) }), v6("2001:db8:100:1::/64", true)),
      path(relayed),
      path(relayed, v6("2001:db8:100:1::/64", true)),
      path(tailnet({ scraper: peer({ path: "offline" }) })),
      path(tailnet({ scraper: peer({ path: "unknown" as never }) })),
    ],
    "tailnet-policy": [
      ...TAILNET_POLICY_FAILURES.flatMap((code) => [false, true].map((isScraper) => judgeTailnetPolicy({ state: "unavailable", code, error: "x" }, { ...policySubjects, isScraper }))),
      ...(["default deny", "shields-up", "peer-jailed"] as const).map((decidedBy) => judgeTailnetPolicy({ state: "ok", source: "ipn-bus", flows: [{ id: "poll-snmpd", verdict: "drop", decidedBy }] }, policySubjects)),
      ...(["localapi-permission", "no-netmap", "no-shared-family", "filter-refused", "rule 3: {}"] as const).map((decidedBy) => judgeTailnetPolicy({ state: "ok", source: null, flows: [{ id: "scrape-node-exporter", verdict: "unknown", decidedBy }] }, policySubjects)),
    ],
    "firewall-port": [
      judgeFirewallPort(undefined, null, "auto"),
      ...FIREWALL_FAILURES.map((code) => judgeFirewallPort({ state: "unavailable", code, error: "x" }, null, "auto")),
      ...RULESET_FAILURES.map((code) => judgeFirewallPort(unread(code), null, "auto")),
      judgeFirewallPort({ ...firewall({}), checks: [{ id: "inbound-ipv4", verdict: "unknown", decidedBy: "no packet", reason: "no global IPv4" }] }, null, "auto"),
      judgeFirewallPort(firewall({ "inbound-ipv6": "drop" }), null, "auto"),
      judgeFirewallPort(firewall({ "inbound-ipv6": "accept" }), 5000, "auto"),
      judgeFirewallPort(firewall({ "inbound-ipv6": "accept" }), 5000, 41641),
      judgeFirewallPort(firewall({ "inbound-ipv6": "unknown" }), null, "auto"),
      judgeFirewallPort(firewall({}), null, "auto"),
    ],
    "node-exporter": [
      judgeNodeExporter(ne, [], false),
      ...SERVICE_FAILURES.map((code) => judgeNodeExporter({ ...ne, code }, [], true)),
      judgeNodeExporter(ne, [], true, true),
      judgeNodeExporter(ne, [], true),
      judgeNodeExporter({ ...ne, up: true }, [], true),
      judgeNodeExporter({ ...ne, up: true, tailnetReachable: false }, ["100.101.102.103"], true),
    ],
    snmpd: [judgeSnmpd(sd, [], false), judgeSnmpd(sd, [], true), ...SERVICE_FAILURES.map((code) => judgeSnmpd({ ...sd, code }, [], true)), judgeSnmpd({ ...sd, up: true }, [], true), judgeSnmpd({ ...sd, up: true, tailnetReachable: false }, ["100.101.102.103"], true)],
    "textfile-dir": [
      judgeTextfileDir({ ...dir, exists: false, error: "not a directory", code: "ENOTDIR" }, source, "/d"),
      judgeTextfileDir({ ...dir, exists: false, error: "ENOENT", code: "ENOENT" }, source, "/d"),
      judgeTextfileDir({ ...dir, exists: false, error: "EACCES", code: "EACCES" }, source, "/d"),
      judgeTextfileDir({ ...dir, writable: false, error: "EROFS" }, source, "/d"),
      judgeTextfileDir({ ...dir, daemonUserWritable: false }, source, "/d"),
      judgeTextfileDir(dir, null, null),
      judgeTextfileDir(dir, { ...source, enabled: false }, "/d"),
      judgeTextfileDir(dir, { ...source, directory: null }, null),
      judgeTextfileDir(dir, { ...source, directory: "/e" }, "/e"),
    ],
    agentx: [
      judgeAgentx(configFromObject({ agentx: { enabled: false } }, null), null),
      judgeAgentx(config, null),
      judgeAgentx(config, { ...up, connect: { connected: false, ms: 1, code: "ECONNREFUSED", error: "refused" }, object: null }),
      judgeAgentx(config, { ...up, connect: { connected: false, ms: 1, code: "EHOSTUNREACH", error: "unreachable" }, object: null }),
      judgeAgentx(config, { ...up, object: { state: "unanswered", error: "timeout" } }),
      judgeAgentx(config, { ...up, daemon: { pid: null, textfile: null }, object: { state: "absent" } }),
      judgeAgentx(config, { ...up, daemon: { pid: 1, textfile: null }, object: { state: "absent" } }),
      judgeAgentx(config, { ...up, object: { state: "absent" } }),
    ],
    notification: [
      ...(["unresolvable", "send-failed"] as const).map((failure) => judgeNotification(config, [{ configured: "scraper:162", acknowledged: false, rttMs: null, error: "x", failure }])),
      judgeNotification(configFromObject({ notifications: { inform: false } }, null), [{ configured: "scraper:162", acknowledged: false, rttMs: null }]),
      judgeNotification(config, [{ configured: "scraper:162", acknowledged: false, rttMs: null, error: "RequestTimedOutError" }]),
    ],
    "receiver-listen": [
      judgeReceiverListen({ listen: ["udp:0.0.0.0:162"], sockets: [], owners: new Map() }),
      judgeReceiverListen({ listen: ["udp:0.0.0.0:162"], sockets: [{ family: "ipv4", address: "0.0.0.0", port: 162, inode: 8 }], owners: new Map([[8, { pid: 11, comm: "snmptrapd", cmdline: ["snmptrapd"] }]]) }),
      judgeReceiverListen({ listen: ["udp:0.0.0.0:162", "udp6:[::]:162"], sockets: [{ family: "ipv4", address: "0.0.0.0", port: 162, inode: 8 }], owners: new Map() }),
    ],
    "receiver-config": [
      ...[{}, { communities: ["c"] }, { communities: ["c"], trustClaimedAddresses: true }].map((receiver) => {
        const c = configFromObject({ receiver }, null);
        return judgeReceiverConfig(startupWarnings(c, false), null, c.receiver.allowSources);
      }),
    ],
    "receiver-file-sd": [
      judgeFileSd({ path: "/f", mtimeMs: null, error: "ENOENT", targets: null, nowMs: now, receiver: null }, config),
      judgeFileSd({ path: "/f", mtimeMs: now, targets: null, parseError: "bad", nowMs: now, receiver: null }, config),
      judgeFileSd({ path: "/f", mtimeMs: now - 86_400_000, targets: 1, nowMs: now, receiver: { pid: 1, startedMs: now - 1000 } }, config),
      judgeFileSd({ path: "/f", mtimeMs: now - 86_400_000, targets: 1, nowMs: now, receiver: null }, config),
      judgeFileSd({ path: "/f", mtimeMs: now - 1000, targets: 1, nowMs: now, receiver: null }, config),
    ],
    "receiver-notify-policy": (() => {
      const peers = { selfIps: ["100.64.0.1"], selfTags: ["tag:scraper"], tagged: [{ node: "n1", ips: ["100.101.0.1"], tags: ["tag:monitor"], online: true }], addresses: new Map(), refused: [] };
      const rules = (src: string[]) => ({ state: "ok" as const, origin: "ipn-bus" as const, selfIps: ["100.64.0.1"], source: { kind: "rules" as const, rules: [{ SrcIPs: src, DstPorts: [{ IP: "100.64.0.1", Ports: { First: 162, Last: 162 } }], IPProto: [17] }], shieldsUp: false, jailed: [] } });
      const shielded = rules(["100.101.0.1"]);
      shielded.source.shieldsUp = true;
      const facts = { nodeTag: "tag:monitor", peers, filter: rules(["100.101.0.1"]) };
      return [
        judgeNotifyPolicy({ ...facts, peers: { error: "connection refused" } }),
        ...(["localapi", "malformed", "no-filter-source"] as const).map((code) => judgeNotifyPolicy({ ...facts, filter: { state: "unavailable", code, error: "x" } })),
        judgeNotifyPolicy({ ...facts, peers: { ...peers, tagged: [] } }),
        judgeNotifyPolicy({ ...facts, filter: rules(["100.101.0.2"]) }),
        judgeNotifyPolicy({ ...facts, filter: shielded }),
        judgeNotifyPolicy({ ...facts, filter: { state: "ok", origin: null, selfIps: [], source: { kind: "no-netmap" } } }),
        judgeNotifyPolicy({ ...facts, filter: { state: "ok", origin: null, selfIps: [], source: { kind: "permission", user: "edge-agent" } } }),
        judgeNotifyPolicy({ ...facts, filter: rules(["cap:monitoring"]) }),
        judgeNotifyPolicy(facts),
      ];
    })(),
  };

  it("covers every registered check", () => {
    expect(Object.keys(outcomes).sort()).toEqual([...CHECK_IDS].sort());
  });

  it.each(Object.entries(outcomes))("%s: every finding that is not ok has a fix line", (id, findings) => {
    const notOk = findings.filter((f) => f.status !== "ok");
    expect(notOk.length).toBeGreaterThan(0);
    for (const f of notOk) expect({ finding: f.finding, fix: f.fix?.trim() || null }).toEqual({ finding: f.finding, fix: expect.any(String) });
  });

  it("the runner's own findings (config invalid, not the scraper, hung, crashed) have fix lines", async () => {
    const load = { path: "/e.yaml", config: null, error: new ConfigError("/e.yaml", "scraper", "x"), mode: null };
    const hang: Check = { id: "hang", group: "outputs", scope: "any", summary: "", timeoutMs: () => 10, run: () => new Promise(() => {}) };
    const crash: Check = { id: "crash", group: "outputs", scope: "any", summary: "", timeoutMs: () => 1000, run: async () => { throw new Error("boom"); } };
    const scraperOnly: Check = { ...crash, id: "scraper-only", scope: "scraper" };
    const ctx = { ...createContext(load), role: async () => ({ scraper: false, reason: "no receiver here" }) };
    const results = [
      ...(await runChecks([crash], ctx, { configInvalid: true })),
      ...(await runChecks([hang, crash, scraperOnly], ctx, { configInvalid: false })),
    ];
    expect(results.map((r) => r.status)).toEqual(["skip", "fail", "fail", "skip"]);
    for (const r of results) expect(r.fix).toEqual(expect.any(String));
  });
});
