// The output checks: the textfile directory is writable and is the one node-exporter reads,
// the agent's AgentX objects can be read through snmpd, and a test notification reaches the
// scraper and is acknowledged.
import type { Config } from "../../config";
import { urlEndpoint } from "../../probes/node-exporter";
import { sendTestNotifications, type TestResult } from "../../snmp/test-notification";
import { SELF } from "../../self-command";
import { nodeStateTimeout, type Check } from "../check";
import type { TextfileSource } from "../facts/node-exporter-process";
import type { ConnectResult } from "../facts/tcp-connect";
import { checkDirWrite, DAEMON_USER, type DirWrite } from "../facts/textfile-dir";
import { readDaemonRegistration, readThroughSnmpd, type DaemonRegistration, type ObjectRead } from "../facts/agentx-served";
import { oidTree } from "../../snmp/oid-tree";
import { access, realpath } from "node:fs/promises";
import { unitInstalled } from "../facts/units";
import { fail, ok, skip, warn, type Finding } from "../finding";
import { afterPackage } from "../package-first";

/** A command naming the edge-agent user fails with "invalid user" until the package has created it. */
function asDaemonUser(dir: DirWrite, command: string): string {
  return afterPackage(dir.daemonUserExists, `creates the ${DAEMON_USER} user`, command);
}

export function judgeTextfileDir(dir: DirWrite, source: TextfileSource | null, neRealPath: string | null): Finding {
  const d = dir.directory;
  if (!dir.exists) {
    if (dir.code === "ENOTDIR") return fail(`${d} is not a directory`, `textfile: { directory: <node-exporter's textfile directory> }`);
    if (dir.code === "ENOENT") return fail(`${d} does not exist`, asDaemonUser(dir, `sudo install -d -o ${DAEMON_USER} -m 0755 ${d}`));
    return fail(`${d} cannot be reached: ${dir.error}`, `ls -ld ${d} and each parent: the user edge-agent runs as needs to search them`);
  }
  if (!dir.writable) return fail(`${d} is not writable: ${dir.error}`, asDaemonUser(dir, `sudo chown ${DAEMON_USER} ${d} (or set textfile.directory to a writable one)`));
  if (dir.daemonUserWritable === false) return fail(`${d} is writable by root but not by the ${DAEMON_USER} user the daemon runs as`, `sudo chown ${DAEMON_USER} ${d}`);
  if (!source) return warn(`${d} is writable, but which directory node-exporter reads is unknown: no node-exporter runs here and there is no /etc/default/prometheus-node-exporter`, "see the node-exporter check");
  if (!source.enabled) return fail(`${d} is writable, but node-exporter's textfile collector is off (per ${source.source})`, `add --collector.textfile to node-exporter's arguments (ARGS in /etc/default/prometheus-node-exporter)`);
  if (!source.directory) return fail(`${d} is writable, but node-exporter reads no textfile directory (per ${source.source})`, `ARGS="--collector.textfile.directory=${d}" in /etc/default/prometheus-node-exporter, then sudo systemctl restart prometheus-node-exporter`);
  if ((neRealPath ?? source.directory) !== dir.realPath)
    return fail(`${d} is writable, but node-exporter reads ${source.directory} (per ${source.source})`, `textfile: { directory: ${source.directory} }`);
  return ok(`${d} is writable and is node-exporter's textfile directory (per ${source.source})`);
}

/** Pure: "tcp:127.0.0.1:705" / "tcp:[::1]:705" -> host and port. */
export function parseAgentxMaster(master: string): { host: string; port: number } | null {
  const match = /^tcp:\[?([^\]]+?)\]?:(\d+)$/.exec(master);
  return match ? { host: match[1], port: Number(match[2]) } : null;
}

/** The snmpd.conf drop-in the packages ship: master agentx, the TCP socket, the view. */
export const SNMPD_DROP_IN = "/etc/snmp/snmpd.conf.d/edge-agent.conf";

/** What the agentx check reads: the master, the object through snmpd, the daemon's own word. */
export interface AgentxFacts {
  connect: ConnectResult | null;
  /** GET of edgeAgentVersion.0 through snmpd; null when not asked (no master to register with). */
  object: ObjectRead | null;
  /** The running `edge-agent run`, if any, and what its textfile says about AgentX. */
  daemon: { pid: number | null; textfile: DaemonRegistration | null; unitInstalled?: boolean };
  dropInInstalled: boolean;
}

/** Pure: the snmpd.conf lines that make the objects readable, for a fix line. */
export function snmpdAgentxLines(master: string, objectsOid: string): string {
  const socket = master === "tcp:127.0.0.1:705" ? `${master},unix:/var/agentx/master` : master;
  return `master agentx; agentXSocket ${socket}; view systemonly included .${objectsOid}`;
}

export function judgeAgentx(config: Pick<Config, "agentx" | "probes" | "mib">, facts: AgentxFacts | null): Finding {
  const master = config.agentx.master;
  if (!config.agentx.enabled) return skip("agentx.enabled is false: no AgentX subagent to connect", "nothing to do, unless snmpd should serve EDGE-AGENT-MIB: agentx: { enabled: true }");
  if (!facts?.connect) return fail(`agentx.master "${master}" is not tcp:HOST:PORT`, "agentx: { master: tcp:127.0.0.1:705 }");
  const tree = oidTree(config.mib.baseOid);
  const version = `edgeAgentVersion.0 (${tree.objectOid("edgeAgentVersion")}.0)`;
  const restart = facts.dropInInstalled
    ? `sudo systemctl restart snmpd (${SNMPD_DROP_IN} makes it an AgentX master on ${master}; snmpd reads it only at start)`
    : `in ${SNMPD_DROP_IN}: ${snmpdAgentxLines(master, tree.objects)} (one per line), then sudo systemctl restart snmpd`;
  const { connect } = facts;
  if (!connect.connected) {
    if (connect.code === "ECONNREFUSED") return fail(`nothing listens on ${master}: snmpd is not an AgentX master there`, restart);
    return fail(`cannot connect to the AgentX master at ${master}: ${connect.error}`, restart);
  }
  const snmpd = config.probes.snmpd;
  const who = snmpd.version === "3" ? `user "${snmpd.user?.name}"` : `community "${snmpd.community}"`;
  const at = `snmpd at ${snmpd.host.includes(":") ? `[${snmpd.host}]` : snmpd.host}:${snmpd.port}`;
  const object = facts.object;
  if (!object || object.state === "unanswered")
    return fail(`the AgentX master at ${master} accepts connections, but ${at} did not answer a GET of ${version} with ${who}: ${object?.error ?? "not asked"}`, "see the snmpd check (probes.snmpd)");
  if (object.state === "value") return ok(`${at} serves EDGE-AGENT-MIB through AgentX to ${who}: ${version} = ${object.value}`);
  // Absent: nobody registered it, or it is registered and hidden by the view ${who} reads through.
  const daemon = facts.daemon;
  if (daemon.pid === null) return fail(`${at} has no ${version}: no edge-agent run is running here to serve it`, afterPackage(daemon.unitInstalled, "ships edge-agent.service", "sudo systemctl enable --now edge-agent"));
  if (daemon.textfile?.registered !== true)
    return fail(
      `${at} has no ${version}: edge-agent run (pid ${daemon.pid}) is running but ${daemon.textfile ? "its textfile says its AgentX objects are not registered with snmpd" : "has written no textfile saying its objects are registered"}`,
      "journalctl -u edge-agent -g AgentX says why (another subagent may own the subtree)",
    );
  return fail(
    `${at} has no ${version} for ${who}, though edge-agent's objects are registered: snmpd's view for ${who} does not include ${tree.objects}`,
    facts.dropInInstalled
      ? `${SNMPD_DROP_IN} adds it to Debian's systemonly view; for another view add "view VIEW included .${tree.objects}" to snmpd.conf, then sudo systemctl restart snmpd`
      : `in ${SNMPD_DROP_IN}: view systemonly included .${tree.objects} (or that line for the view ${who} uses), then sudo systemctl restart snmpd`,
  );
}

/** What `sendTestNotification` answers: the same round trip `edge-agent trap --test` makes. */
export type NotificationResult = TestResult;

const RANK = { ok: 0, skip: 0, warn: 1, fail: 2 } as const;

/**
 * One finding for every target: each target's own, joined, at the worst of their statuses (a
 * target the node cannot reach is a fault even while another one answers).
 */
export function judgeNotification(config: Pick<Config, "notifications">, results: readonly NotificationResult[]): Finding {
  const findings = results.map((result) => judgeOneTarget(config, result));
  if (findings.length === 1) return findings[0];
  const worst = findings.reduce((a, b) => (RANK[b.status] > RANK[a.status] ? b : a));
  const fixes = [...new Set(findings.filter((f) => f.fix !== null && RANK[f.status] > 0).map((f) => f.fix!))];
  return { status: worst.status, finding: findings.map((f) => f.finding).join("; "), fix: fixes.length ? fixes.join("; ") : null };
}

function judgeOneTarget(config: Pick<Config, "notifications">, result: NotificationResult): Finding {
  const n = config.notifications;
  const kind = n.inform ? "inform" : "trap";
  const where = `${result.configured}${result.target ? ` (${result.target})` : ""}`;
  if (result.acknowledged) return ok(`${kind} to ${where} acknowledged${result.rttMs !== null ? ` in ${result.rttMs} ms` : ""}`);
  if (result.failure === "unresolvable")
    return fail(`no notification sent to ${result.configured}: ${result.error}`, `see the magicdns check; or list the scraper's Tailscale IP and port in notifications.targets, e.g. "[fd7a:115c:a1e0::1]:162"`);
  if (!n.inform && !result.error) return warn(`trap sent to ${where}; traps are never acknowledged, so its arrival is unconfirmed`, "notifications: { inform: true }");
  return fail(
    `no acknowledgement from ${where}: ${result.error ?? "no answer"}`,
    `on the scraper: ${SELF} doctor --check receiver-listen; the tailnet policy must let tag:monitor reach tag:scraper:162/udp; notifications.${n.version === "3" ? "user" : "community"} must be one the receiver accepts`,
  );
}

export const textfileDirCheck: Check = {
  id: "textfile-dir",
  group: "outputs",
  scope: "any",
  summary: "textfile.directory is writable and is the one node-exporter reads",
  timeoutMs: () => 5000,
  run: async (ctx) => {
    const { port } = urlEndpoint(ctx.config.probes.nodeExporter.url);
    const [dir, source] = await Promise.all([checkDirWrite(ctx.config.textfile.directory), ctx.textfileSource(port)]);
    const neReal = source?.directory ? await realpath(source.directory).catch(() => source.directory) : null;
    return judgeTextfileDir(dir, source, neReal);
  },
};

export const agentxCheck: Check = {
  id: "agentx",
  group: "outputs",
  scope: "any",
  summary: "the agent's AgentX objects can be read through snmpd with probes.snmpd's community or user",
  timeoutMs: (config) => config.probes.timeoutMs * 2 + 1000,
  run: async (ctx) => {
    const { config } = ctx;
    const master = parseAgentxMaster(config.agentx.master);
    if (!config.agentx.enabled || !master) return judgeAgentx(config, null);
    const [connect, textfile, dropInInstalled] = await Promise.all([
      ctx.connect(master.host, master.port),
      readDaemonRegistration(config.textfile.directory),
      access(SNMPD_DROP_IN).then(() => true, () => false),
    ]);
    const object = connect.connected ? await readThroughSnmpd(config.probes.snmpd, `${oidTree(config.mib.baseOid).objectOid("edgeAgentVersion")}.0`, config.probes.timeoutMs) : null;
    return judgeAgentx(config, { connect, object, daemon: { pid: ctx.edgeAgentPid("run"), textfile, unitInstalled: unitInstalled("edge-agent.service") }, dropInInstalled });
  },
};

export const notificationCheck: Check = {
  id: "notification",
  group: "outputs",
  scope: "any",
  summary: "a test notification reaches each notifications target and is acknowledged",
  timeoutMs: (config) => nodeStateTimeout(config) + config.notifications.timeoutMs * 2 + 1000,
  run: async (ctx) => {
    // One retry at most: doctor is waited on by a person, the daemon's outbox is not.
    const config: Config = { ...ctx.config, notifications: { ...ctx.config.notifications, retries: Math.min(ctx.config.notifications.retries, 1) } };
    // No logger: the finding names each target and its answer, all a silent log would have had.
    const results = await sendTestNotifications(config, null, await ctx.nodeState());
    return judgeNotification(config, results);
  },
};

