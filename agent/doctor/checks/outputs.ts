// The output checks: the textfile directory is writable and is the one node-exporter reads,
// the AgentX master accepts connections, and a test notification reaches the scraper and is
// acknowledged.
import type { Config } from "../../config";
import { createStderrLogger } from "../../log";
import { urlEndpoint } from "../../probes/node-exporter";
import { sendTestNotification, type TestResult } from "../../snmp/test-notification";
import { nodeStateTimeout, type Check } from "../check";
import type { TextfileSource } from "../facts/node-exporter-process";
import type { ConnectResult } from "../facts/tcp-connect";
import { checkDirWrite, DAEMON_USER, type DirWrite } from "../facts/textfile-dir";
import { realpath } from "node:fs/promises";
import { fail, ok, skip, warn, type Finding } from "../finding";

export function judgeTextfileDir(dir: DirWrite, source: TextfileSource | null, neRealPath: string | null): Finding {
  const d = dir.directory;
  if (!dir.exists) {
    if (dir.code === "ENOTDIR") return fail(`${d} is not a directory`, `textfile: { directory: <node-exporter's textfile directory> }`);
    if (dir.code === "ENOENT") return fail(`${d} does not exist`, `sudo install -d -o ${DAEMON_USER} -m 0755 ${d}`);
    return fail(`${d} cannot be reached: ${dir.error}`, `ls -ld ${d} and each parent: the user edge-agent runs as needs to search them`);
  }
  if (!dir.writable) return fail(`${d} is not writable: ${dir.error}`, `sudo chown ${DAEMON_USER} ${d} (or set textfile.directory to a writable one)`);
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

export function judgeAgentx(config: Pick<Config, "agentx">, result: ConnectResult | null): Finding {
  const master = config.agentx.master;
  if (!config.agentx.enabled) return skip("agentx.enabled is false: no AgentX subagent to connect");
  const snmpdConf = `in /etc/snmp/snmpd.conf: master agentx and agentXSocket ${master}, then sudo systemctl restart snmpd`;
  if (!result) return fail(`agentx.master "${master}" is not tcp:HOST:PORT`, "agentx: { master: tcp:127.0.0.1:705 }");
  if (result.connected) return ok(`the AgentX master at ${master} accepts connections (${result.ms} ms)`);
  if (result.code === "ECONNREFUSED") return fail(`nothing listens on ${master}: snmpd is not an AgentX master there`, snmpdConf);
  return fail(`cannot connect to the AgentX master at ${master}: ${result.error}`, snmpdConf);
}

/** What `sendTestNotification` answers: the same round trip `edge-agent trap --test` makes. */
export type NotificationResult = TestResult;

export function judgeNotification(config: Pick<Config, "notifications">, result: NotificationResult): Finding {
  const n = config.notifications;
  const kind = n.inform ? "inform" : "trap";
  const where = `${n.target}${result.target ? ` (${result.target})` : ""}`;
  if (result.acknowledged) return ok(`${kind} to ${where} acknowledged${result.rttMs !== null ? ` in ${result.rttMs} ms` : ""}`);
  if (result.failure === "unresolvable")
    return fail(`no notification sent: ${result.error}`, `see the magicdns check; or set notifications.target to the scraper's Tailscale IP and port, e.g. "[fd7a:115c:a1e0::1]:162"`);
  if (!n.inform && !result.error) return warn(`trap sent to ${where}; traps are never acknowledged, so its arrival is unconfirmed`, "notifications: { inform: true }");
  return fail(
    `no acknowledgement from ${where}: ${result.error ?? "no answer"}`,
    `on the scraper: edge-agent doctor --check receiver-listen; the tailnet policy must let tag:monitor reach tag:scraper:162/udp; notifications.${n.version === "3" ? "user" : "community"} must be one the receiver accepts`,
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
  summary: "the AgentX master (agentx.master) accepts connections",
  timeoutMs: (config) => config.probes.timeoutMs + 1000,
  run: async (ctx) => {
    const master = parseAgentxMaster(ctx.config.agentx.master);
    if (!ctx.config.agentx.enabled || !master) return judgeAgentx(ctx.config, null);
    return judgeAgentx(ctx.config, await ctx.connect(master.host, master.port));
  },
};

export const notificationCheck: Check = {
  id: "notification",
  group: "outputs",
  scope: "any",
  summary: "a test notification reaches the scraper and is acknowledged",
  timeoutMs: (config) => nodeStateTimeout(config) + config.notifications.timeoutMs * 2 + 1000,
  run: async (ctx) => {
    // One retry at most: doctor is waited on by a person, the daemon's outbox is not.
    const config: Config = { ...ctx.config, notifications: { ...ctx.config.notifications, retries: Math.min(ctx.config.notifications.retries, 1) } };
    const logger = createStderrLogger("silent", "edge-agent-doctor");
    const result = await sendTestNotification(config, logger, await ctx.nodeState());
    return judgeNotification(config, result);
  },
};

