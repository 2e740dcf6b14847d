// The service checks: node-exporter and snmpd answer locally and on the host's Tailscale IP,
// the address the scraper polls them on.
import { urlEndpoint } from "../../probes/node-exporter";
import { runningTailnet, type NodeState } from "../../state/node-state";
import type { NodeExporterState, ServiceFailure, SnmpdState } from "../../state/services";
import { nodeStateTimeout, type Check } from "../check";
import { isInstalled } from "../facts/installed";
import { fail, notInstalled, ok, warn, type Finding } from "../finding";
import { installCommand, type PackageTool } from "../install";

const NO_TAILNET = "not tried on a Tailscale IP: tailscaled gave none (see the tailscaled check)";

/** `portListens`: whether a TCP connect to the URL's host and port succeeds, asked only when down. */
export function judgeNodeExporter(ne: NodeExporterState, tailnetIps: string[], installed: boolean, portListens = false, tool: PackageTool | null = "apt"): Finding {
  if (!ne.up) {
    if (!installed) return notInstalled("fail", `node-exporter is not installed (nothing answers at ${ne.url})`, installCommand(["node-exporter"], tool), "node-exporter");
    // Its certificate was refused, or the CA file could not be read: the probe's TLS settings are the fix.
    if (ne.code === "tls")
      return fail(ne.error ?? `node-exporter at ${ne.url} refused the TLS handshake`, "set probes.nodeExporter.tls in edge-agent's config: caFile, the CA that signed the cert_file of node-exporter's tls_server_config (--web.config.file), or serverName, a name that certificate carries");
    // Something answered there: starting node-exporter is not the fix, the URL is.
    if (portListens || ne.code === "http-status" || ne.code === "not-node-exporter") return fail(ne.error ?? `no node-exporter metrics at ${ne.url}`, "check probes.nodeExporter.url against node-exporter's flags (ARGS in /etc/default/prometheus-node-exporter): --web.telemetry-path, and the basic_auth_users of --web.config.file");
    return fail(ne.error ?? `nothing answers at ${ne.url}`, `sudo systemctl enable --now prometheus-node-exporter (or set probes.nodeExporter.url to where it listens)`);
  }
  const what = `node-exporter${ne.version ? ` ${ne.version}` : ""} answers at ${ne.url}`;
  if (ne.tailnetReachable === null) return warn(`${what}; ${NO_TAILNET}`, "see the tailscaled check");
  if (!ne.tailnetReachable) {
    const port = new URL(ne.url).port || "9100";
    return fail(
      `${what} but not on the Tailscale IP ${tailnetIps.join(" or ")}, where the scraper scrapes it: ${ne.tailnetError ?? "no answer"}`,
      `listen on all addresses: ARGS="--web.listen-address=:${port}" in /etc/default/prometheus-node-exporter, then sudo systemctl restart prometheus-node-exporter`,
    );
  }
  return ok(`${what} and on the Tailscale IP`);
}

const SNMPD_START = "sudo systemctl enable --now snmpd, and check its rocommunity/rouser lines in /etc/snmp/snmpd.conf against probes.snmpd";

/** What to do when snmpd does not answer, by why; the type makes a new code need one. */
const SNMPD_FIXES: Record<ServiceFailure, string> = {
  "access-denied": "snmpd answers but refuses the request: make its rocommunity/rouser lines and views in /etc/snmp/snmpd.conf match probes.snmpd (community, or user name, keys and protocols), then sudo systemctl restart snmpd",
  "not-listening": SNMPD_START,
  "no-answer": SNMPD_START,
  timeout: SNMPD_START,
  "probe-error": SNMPD_START,
  // node-exporter's kinds of failure; an SNMP probe does not report them.
  tls: SNMPD_START,
  "http-status": SNMPD_START,
  "not-node-exporter": SNMPD_START,
};

export function judgeSnmpd(sd: SnmpdState, tailnetIps: string[], installed: boolean, tool: PackageTool | null = "apt"): Finding {
  if (!sd.up) {
    if (!installed) return notInstalled("fail", `snmpd is not installed (no answer at ${sd.target})`, installCommand(["snmpd"], tool), "snmpd");
    return fail(sd.error ?? `no answer from snmpd at ${sd.target}`, sd.code ? SNMPD_FIXES[sd.code] : SNMPD_START);
  }
  const what = `snmpd answers at ${sd.target}${sd.sysDescr ? ` (${sd.sysDescr.split("\n")[0].slice(0, 60)})` : ""}`;
  if (sd.tailnetReachable === null) return warn(`${what}; ${NO_TAILNET}`, "see the tailscaled check");
  if (!sd.tailnetReachable) {
    const port = sd.target.replace(/^.*:/, "");
    return fail(
      `${what} but not on the Tailscale IP ${tailnetIps.join(" or ")}, where the scraper polls it: ${sd.tailnetError ?? "no answer"}`,
      `in /etc/snmp/snmpd.conf: agentaddress udp:${port},udp6:${port} and a rocommunity (or rouser) that admits the scraper's Tailscale IP, then sudo systemctl restart snmpd`,
    );
  }
  return ok(`${what} and on the Tailscale IP`);
}

function tailnetIps(state: NodeState): string[] {
  return runningTailnet(state.tailnet)?.ips ?? [];
}

export const nodeExporterCheck: Check = {
  id: "node-exporter",
  group: "services",
  scope: "any",
  summary: "node-exporter answers locally and on the Tailscale IP",
  timeoutMs: nodeStateTimeout,
  run: async (ctx) => {
    const state = await ctx.nodeState();
    const ne = state.services.nodeExporter;
    let portListens = false;
    if (!ne.up) {
      const { host, port } = urlEndpoint(ctx.config.probes.nodeExporter.url);
      portListens = (await ctx.connect(host, port)).connected;
    }
    return judgeNodeExporter(ne, tailnetIps(state), isInstalled("prometheus-node-exporter", "node_exporter"), portListens, ctx.packageTool());
  },
};

export const snmpdCheck: Check = {
  id: "snmpd",
  group: "services",
  scope: "any",
  summary: "snmpd answers locally and on the Tailscale IP",
  timeoutMs: nodeStateTimeout,
  run: async (ctx) => {
    const state = await ctx.nodeState();
    return judgeSnmpd(state.services.snmpd, tailnetIps(state), isInstalled("snmpd"), ctx.packageTool());
  },
};
