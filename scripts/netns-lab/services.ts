// What runs where in the lab, and the config files each daemon reads: node-exporter, snmpd
// (AgentX master) and `edge-agent run` on every node; Prometheus, Alertmanager and
// `edge-agent receive` on the scraper (on both scrapers in the pair lab, set up as the README's
// High availability section says, with a webhook sink in the core counting Alertmanager's
// notifications); one fake tailscaled process serving every node's socket.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import { defaultScenario, seedFilterRules, type Scenario } from "../../test/helpers/tailscaled";
import { unitCommand, unitEnvironment } from "../../test/helpers/unit-exec";
import type { ProcessSpec } from "./processes";
import { ALLOCATION, COMMUNITY, NODES, TAILNET_V4, TAILNET_V6, TAILSCALED_PORT, bare, scraperNode, scraperNodes, type LabNode } from "./topology";

export const REPO = resolve(__dirname, "../..");
const TSX_CLI = join(REPO, "node_modules/tsx/dist/cli.mjs");
const BASE_MIB_DIR = join(REPO, "node_modules/net-snmp/lib/mibs");

export const PORTS = { nodeExporter: 9100, snmp: 161, agentx: 705, prometheus: 9090, alertmanager: 9093, alertmanagerCluster: 9094, webhook: 9099, fleetMetrics: 9163, traps: 162 } as const;

/** The pair lab's webhook sink listens in the core, on its side of the first scraper's link: both scrapers route there. */
export function webhookUrl(): string {
  return `http://[${scraperNode().uplink.v6Gateway}]:${PORTS.webhook}/`;
}

export interface LabPaths {
  dir: string;
  node: (name: string) => string;
  uts: (name: string) => string;
  socket: (name: string) => string;
  scenario: (name: string) => string;
  /** The first scraper's file_sd file. */
  fileSd: string;
  fileSdOf: (scraper: string) => string;
  /** One line per notification the webhook sink got (the pair lab). */
  webhook: string;
  state: string;
  /** Where `up` builds the bundle when it is not given one. */
  bundle: string;
}

export function labPaths(dir: string): LabPaths {
  return {
    dir,
    node: (name) => join(dir, name),
    uts: (name) => join(dir, "uts", name),
    socket: (name) => join(dir, name, "tailscaled.sock"),
    scenario: (name) => join(dir, name, "tailscaled.json"),
    fileSd: join(dir, scraperNode().name, "file_sd", "edge-agent.yml"),
    fileSdOf: (scraper) => join(dir, scraper, "file_sd", "edge-agent.yml"),
    webhook: join(dir, "webhook", "notifications.jsonl"),
    state: join(dir, "lab.json"),
    bundle: join(dir, "bundle", "edge-agent"),
  };
}

/** Which long-running commands the bundle has (`run`, `receive` arrived with their branches). */
export function edgeAgentCommands(bundle: string): Set<string> {
  try {
    const help = execFileSync(process.execPath, [bundle, "--help"], { encoding: "utf8", cwd: REPO });
    return new Set([...help.matchAll(/^\s+edge-agent (\w+)/gm)].map((m) => m[1]));
  } catch {
    return new Set();
  }
}

/** The fake tailscaled's answers for a node: its own IPs and endpoints, the path to the scraper. */
export function scenarioFor(node: LabNode): Scenario {
  const scraper = scraperNode();
  const base = defaultScenario();
  const endpoints = [node.uplink.v6 ? `[${bare(node.uplink.v6)}]:${TAILSCALED_PORT}` : null, node.uplink.v4 ? `${bare(node.uplink.v4)}:${TAILSCALED_PORT}` : null].filter((e): e is string => e !== null);
  const scenario: Scenario = {
    ...base,
    selfHostName: node.name,
    selfTags: node.role === "scraper" ? ["tag:scraper"] : ["tag:monitor"],
    selfIps: [node.tailnet!.v4, node.tailnet!.v6],
    selfAddrs: endpoints,
    scraperPath: node.scraperPath ?? "direct6",
    scraperHostName: scraper.name,
    scraperIps: [scraper.tailnet!.v4, scraper.tailnet!.v6],
  };
  // The seed policy as control compiles it for a node, written out so a person can break it in
  // the scenario file (tailnet.policy's verdicts then turn to drop).
  if (node.role === "node") scenario.packetFilter = seedFilterRules(scenario);
  if (node.role === "scraper") {
    // The receiver asks its own tailscaled who owns a notification's source address.
    scenario.whois = Object.fromEntries(
      NODES.filter((n) => n.tailnet && n.role === "node").flatMap((n) => [
        [n.tailnet!.v4, { hostName: n.name, tags: ["tag:monitor"] }],
        [n.tailnet!.v6, { hostName: n.name, tags: ["tag:monitor"] }],
      ]),
    );
  }
  return scenario;
}

function write(file: string, text: string, mode = 0o644): string {
  writeFileSync(file, text, { mode });
  return file;
}

export function agentConfig(paths: LabPaths, node: LabNode, pair = false): string {
  const dir = paths.node(node.name);
  return stringify({
    scraper: scraperNode().name,
    tailscale: { socket: paths.socket(node.name), expectedTags: ["tag:monitor"] },
    ipv6: { allocations: [ALLOCATION] },
    probes: {
      // Generous: two shared cores under a parallel test suite can stall a probe past 1-2 s,
      // and a timed-out probe reads as a change.
      timeout: "3s",
      nodeExporter: { url: `http://127.0.0.1:${PORTS.nodeExporter}/metrics` },
      snmpd: { host: "127.0.0.1", port: PORTS.snmp, version: "2c", community: COMMUNITY },
    },
    notifications: {
      // The pair: every notification to both scrapers, each with its own place in the outbox.
      ...(pair ? { targets: scraperNodes(pair).map((s) => `${s.name}:${PORTS.traps}`) } : { target: `${scraperNode().name}:${PORTS.traps}` }),
      version: "2c",
      community: COMMUNITY,
      inform: true,
      timeout: "2s",
      retries: 1,
      outbox: join(dir, "outbox"),
    },
    textfile: { directory: join(dir, "textfile") },
    agentx: { enabled: true, master: `tcp:127.0.0.1:${PORTS.agentx}` },
    firewall: { port: "auto", forwardPrefixes: node.forwards },
    run: { interval: "2s", heartbeat: "10s" },
    log: { level: "info" },
  });
}

/** A scraper's receiver; in the pair lab it posts no alerts (the rules do, as the README advises). */
export function receiverConfig(paths: LabPaths, scraper: LabNode = scraperNode(), pair = false): string {
  return stringify({
    scraper: scraper.name,
    tailscale: { socket: paths.socket(scraper.name), expectedTags: ["tag:scraper"] },
    receiver: {
      // The Tailscale IPs only, as the tailnet policy intends (and "udp6:[::]" is dual-stack on
      // Linux, so it cannot sit beside "udp:0.0.0.0" on the same port).
      listen: [`udp6:[${scraper.tailnet!.v6}]:${PORTS.traps}`, `udp:${scraper.tailnet!.v4}:${PORTS.traps}`],
      communities: [COMMUNITY],
      allowSources: [TAILNET_V4, TAILNET_V6],
      metrics: `[::]:${PORTS.fleetMetrics}`,
      fileSd: paths.fileSdOf(scraper.name),
      ...(pair ? {} : { alertmanager: `http://127.0.0.1:${PORTS.alertmanager}` }),
      state: join(paths.node(scraper.name), "fleet.json"),
      staleAfterHeartbeats: 3,
    },
    log: { level: "info" },
  });
}

/**
 * A scraper's Prometheus. In the pair lab it is the README's High availability step 4: the
 * packaged rules, both receivers scraped, every alert sent to both Alertmanagers.
 */
export function prometheusConfig(paths: LabPaths, scraper: LabNode = scraperNode(), pair = false, rules?: string): string {
  const scrapers = scraperNodes(pair);
  return stringify({
    global: { scrape_interval: "2s", scrape_timeout: "2s", evaluation_interval: "2s" },
    ...(pair && rules
      ? {
          rule_files: [rules],
          alerting: { alertmanagers: [{ static_configs: [{ targets: scrapers.map((s) => `${s.name}:${PORTS.alertmanager}`) }] }] },
        }
      : {}),
    scrape_configs: [
      // DESIGN.md's node job, its target list now kept by the receiver instead of by hand.
      { job_name: "node", file_sd_configs: [{ files: [paths.fileSdOf(scraper.name)], refresh_interval: "5s" }] },
      {
        job_name: "edge-fleet",
        static_configs: [{ targets: pair ? scrapers.map((s) => `${s.name}:${PORTS.fleetMetrics}`) : [`127.0.0.1:${PORTS.fleetMetrics}`] }],
      },
    ],
  });
}

/**
 * The packaged rules (packaging/prometheus/edge-agent.rules.yml) with every `for:` cut to 2 s, so
 * the lab shows in seconds what a fleet shows in minutes; the expressions are the shipped ones.
 */
export function labRules(): string {
  const rules = parse(readFileSync(join(REPO, "packaging/prometheus/edge-agent.rules.yml"), "utf8")) as { groups: { rules: { for?: string }[] }[] };
  for (const group of rules.groups) for (const rule of group.rules) if (rule.for) rule.for = "2s";
  return stringify(rules);
}

export function alertmanagerConfig(pair = false): string {
  // Single scraper: alerts are read back through the API; nothing is sent anywhere.
  if (!pair) return stringify({ route: { receiver: "lab", group_wait: "1s", group_interval: "5s" }, receivers: [{ name: "lab" }] });
  // Pair: one group per alert, so the sink's count per alert is the number of notifications.
  return stringify({
    route: { receiver: "sink", group_by: ["..."], group_wait: "1s", group_interval: "5s", repeat_interval: "4h" },
    receivers: [{ name: "sink", webhook_configs: [{ url: webhookUrl(), send_resolved: true }] }],
  });
}

/** The pair's cluster flags for one scraper: its Tailscale IP, the other one's as its peer. */
export function alertmanagerClusterArgs(scraper: LabNode, pair: boolean): string[] {
  if (!pair) return ["--cluster.listen-address="];
  const own = `${scraper.tailnet!.v4}:${PORTS.alertmanagerCluster}`;
  const peers = scraperNodes(true).filter((s) => s.name !== scraper.name);
  return [
    `--cluster.listen-address=${own}`,
    `--cluster.advertise-address=${own}`,
    ...peers.map((p) => `--cluster.peer=${p.tailnet!.v4}:${PORTS.alertmanagerCluster}`),
    // A restarted peer waits this long for the other's state before it notifies (default 1m).
    "--cluster.settle-timeout=5s",
  ];
}

export function snmpdConfig(node: LabNode): string {
  return [
    "master agentx",
    `agentXSocket tcp:127.0.0.1:${PORTS.agentx}`,
    `rocommunity ${COMMUNITY} 127.0.0.1`,
    `rocommunity ${COMMUNITY} ${TAILNET_V4}`,
    `rocommunity6 ${COMMUNITY} ::1`,
    `rocommunity6 ${COMMUNITY} ${TAILNET_V6}`,
    `sysName ${node.name}`,
    `sysDescr edge-agent lab node ${node.name}`,
    "",
  ].join("\n");
}

/** Every process of the lab, in start order; config files written as a side effect. */
export function processSpecs(paths: LabPaths, ns: Record<string, string>, commands: Set<string>, bundle: string, pair: { coreNs: string } | null = null): ProcessSpec[] {
  const specs: ProcessSpec[] = [];
  const log = (node: string, service: string) => join(paths.node(node), `${service}.log`);
  const spec = (node: LabNode, service: string, argv: string[], listens: string[], env?: Record<string, string>): ProcessSpec => ({
    key: `${node.name}/${service}`,
    node: node.name,
    service,
    ns: ns[node.name],
    uts: paths.uts(node.name),
    argv,
    env,
    log: log(node.name, service),
    listens,
  });

  mkdirSync(join(paths.dir, "tailscaled"), { recursive: true });
  specs.push({
    key: "host/tailscaled",
    node: "host",
    service: "tailscaled",
    ns: null,
    uts: null,
    argv: [process.execPath, TSX_CLI, join(__dirname, "tailscaled-host.ts"), paths.dir],
    log: join(paths.dir, "tailscaled", "tailscaled.log"),
    listens: NODES.filter((n) => n.tailnet).map((n) => paths.socket(n.name)),
  });

  if (pair) {
    mkdirSync(join(paths.dir, "webhook"), { recursive: true });
    specs.push({
      key: "core/webhook",
      node: "core",
      service: "webhook",
      ns: pair.coreNs,
      uts: null,
      argv: [process.execPath, TSX_CLI, join(__dirname, "webhook-sink.ts"), String(PORTS.webhook), paths.webhook],
      log: join(paths.dir, "webhook", "webhook.log"),
      listens: [`tcp [::]:${PORTS.webhook} (${webhookUrl()}, Alertmanager's notifications)`],
    });
  }

  // The scrapers first, so the agents' first notifications find the receivers listening.
  const rules = pair ? write(join(paths.dir, "edge-agent.rules.yml"), labRules()) : undefined;
  for (const scraper of scraperNodes(pair !== null)) {
    const sdir = paths.node(scraper.name);
    for (const sub of ["file_sd", "prometheus-data", "alertmanager-data"]) mkdirSync(join(sdir, sub), { recursive: true });
    const am = write(join(sdir, "alertmanager.yml"), alertmanagerConfig(pair !== null));
    // The pair's Prometheus servers send to both Alertmanagers, so these listen on the tailnet too.
    const amListen = pair ? `:${PORTS.alertmanager}` : `127.0.0.1:${PORTS.alertmanager}`;
    specs.push(
      spec(
        scraper,
        "alertmanager",
        ["prometheus-alertmanager", `--config.file=${am}`, `--storage.path=${join(sdir, "alertmanager-data")}`, `--web.listen-address=${amListen}`, ...alertmanagerClusterArgs(scraper, pair !== null)],
        [`tcp ${amListen}`, ...(pair ? [`tcp,udp ${scraper.tailnet!.v4}:${PORTS.alertmanagerCluster} (cluster)`] : [])],
      ),
    );
    if (commands.has("receive")) {
      const config = write(join(sdir, "receive.yaml"), receiverConfig(paths, scraper, pair !== null), 0o640);
      const unit = unitCommand(bundle, ["receive", "--config", config], "edge-agent-receiver.service");
      specs.push(spec(scraper, "edge-agent-receive", unit.argv, [`udp ${scraper.tailnet!.v4},[${scraper.tailnet!.v6}]:${PORTS.traps}`, `tcp [::]:${PORTS.fleetMetrics} (/metrics)`], unitEnvironment("edge-agent-receiver.service")));
    }
    const prom = write(join(sdir, "prometheus.yml"), prometheusConfig(paths, scraper, pair !== null, rules));
    specs.push(
      spec(
        scraper,
        "prometheus",
        ["prometheus", `--config.file=${prom}`, `--storage.tsdb.path=${join(sdir, "prometheus-data")}`, `--web.listen-address=127.0.0.1:${PORTS.prometheus}`, "--storage.tsdb.retention.time=1d", "--web.enable-lifecycle"],
        [`tcp 127.0.0.1:${PORTS.prometheus}`],
      ),
    );
  }
  for (const node of NODES.filter((n) => n.role === "node")) {
    const dir = paths.node(node.name);
    const t = node.tailnet!;
    for (const sub of ["textfile", "outbox", "snmp"]) mkdirSync(join(dir, sub), { recursive: true });
    specs.push(
      spec(
        node,
        "node-exporter",
        [
          "prometheus-node-exporter",
          ...[`127.0.0.1`, t.v4, `[${t.v6}]`].map((a) => `--web.listen-address=${a}:${PORTS.nodeExporter}`),
          "--collector.disable-defaults",
          "--collector.textfile",
          `--collector.textfile.directory=${join(dir, "textfile")}`,
          "--collector.uname",
          "--collector.loadavg",
        ],
        [`tcp 127.0.0.1,${t.v4},[${t.v6}]:${PORTS.nodeExporter}`],
      ),
    );
    const conf = write(join(dir, "snmpd.conf"), snmpdConfig(node));
    specs.push(
      spec(
        node,
        "snmpd",
        ["snmpd", "-f", "-C", "-c", conf, "-Lf", join(dir, "snmpd.log"), "-p", join(dir, "snmpd.pid"), `udp:127.0.0.1:${PORTS.snmp}`, `udp:${t.v4}:${PORTS.snmp}`, `udp6:[::1]:${PORTS.snmp}`, `udp6:[${t.v6}]:${PORTS.snmp}`],
        [`udp 127.0.0.1,${t.v4},[::1],[${t.v6}]:${PORTS.snmp}`, `tcp 127.0.0.1:${PORTS.agentx} (AgentX)`],
        { MIBS: "", MIBDIRS: BASE_MIB_DIR, SNMP_PERSISTENT_DIR: join(dir, "snmp") },
      ),
    );
    if (commands.has("run")) {
      const config = write(join(dir, "config.yaml"), agentConfig(paths, node, pair !== null), 0o640);
      // As edge-agent.service starts it: --jitless under W^X, with the unit's Environment=.
      const unit = unitCommand(bundle, ["run", "--config", config]);
      specs.push(spec(node, "edge-agent", unit.argv, [`textfile ${join(dir, "textfile")}`, "AgentX subagent", `notifications to ${scraperNodes(pair !== null).map((s) => `${s.name}:${PORTS.traps}`).join(", ")}`], unitEnvironment()));
    }
  }

  return specs;
}
