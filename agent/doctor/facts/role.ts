// Decides whether this host is the scraper, so the receiver checks run only where a receiver
// belongs. A host is the scraper when its config accepts notifications (receiver.communities or
// receiver.users: a receiver accepts nothing without them, so a node's config never sets them)
// or when an `edge-agent receive` process is running here.
import { readdirSync } from "node:fs";
import type { Config } from "../../config";
import { netnsOf, procText } from "./node-exporter-process";

export interface Role {
  scraper: boolean;
  /** Why, in words, for the findings. */
  reason: string;
}

/** Pure: a process's argv is `edge-agent COMMAND` (packaged binary, bin/edge-agent.js or tsx). */
export function isEdgeAgentCommand(argv: string[], command: "run" | "receive"): boolean {
  const at = argv.findIndex((a) => /(^|\/)edge-agent(\.js|\.ts)?$/.test(a) || /(^|\/)agent\/main\.ts$/.test(a));
  return at >= 0 && argv[at + 1] === command;
}

export const isReceiveCommand = (argv: string[]): boolean => isEdgeAgentCommand(argv, "receive");

export type EdgeAgentCommand = "run" | "receive";

/**
 * The `edge-agent run` and `edge-agent receive` in this network namespace (one in a container is
 * not ours), from one pass over /proc: doctor asks about both (agentx, and the role), and reading
 * every process's cmdline is a scan's cost, more so beside busy processes.
 */
export function edgeAgentProcesses(): Record<EdgeAgentCommand, number | null> {
  const found: Record<EdgeAgentCommand, number | null> = { run: null, receive: null };
  const self = netnsOf("self");
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const argv = procText(`/proc/${pid}/cmdline`).split("\0").filter(Boolean);
    const command = (["run", "receive"] as const).find((c) => found[c] === null && isEdgeAgentCommand(argv, c));
    if (!command) continue;
    const ns = netnsOf(pid);
    if (!self || !ns || ns === self) found[command] = Number(pid);
    if (found.run !== null && found.receive !== null) break;
  }
  return found;
}

/** `receivePid`: the running `edge-agent receive`, asked only when the config does not decide. */
export async function detectRole(config: Config, receivePid: () => number | null): Promise<Role> {
  const accepts = [config.receiver.communities.length ? "receiver.communities" : "", config.receiver.users.length ? "receiver.users" : ""].filter(Boolean);
  if (accepts.length) return { scraper: true, reason: `${accepts.join(" and ")} configured` };
  const pid = receivePid();
  if (pid !== null) return { scraper: true, reason: `\`edge-agent receive\` is running (pid ${pid})` };
  return { scraper: false, reason: "no receiver.communities or receiver.users configured and no `edge-agent receive` running" };
}
