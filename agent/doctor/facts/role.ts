// Decides whether this host is the scraper, so the receiver checks run only where a receiver
// belongs. A host is the scraper when its config accepts notifications (receiver.communities or
// receiver.users: a receiver accepts nothing without them, so a node's config never sets them)
// or when an `edge-agent receive` process is running here.
import { readdir, readFile } from "node:fs/promises";
import type { Config } from "../../config";

export interface Role {
  scraper: boolean;
  /** Why, in words, for the findings. */
  reason: string;
}

/** Pure: a process's argv is `edge-agent receive` (packaged binary, bin/edge-agent.js or tsx). */
export function isReceiveCommand(argv: string[]): boolean {
  const at = argv.findIndex((a) => /(^|\/)edge-agent(\.js|\.ts)?$/.test(a) || /(^|\/)agent\/main\.ts$/.test(a));
  return at >= 0 && argv[at + 1] === "receive";
}

export async function receiveProcess(): Promise<number | null> {
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0").filter(Boolean);
    if (isReceiveCommand(argv)) return Number(pid);
  }
  return null;
}

export async function detectRole(config: Config): Promise<Role> {
  const accepts = [config.receiver.communities.length ? "receiver.communities" : "", config.receiver.users.length ? "receiver.users" : ""].filter(Boolean);
  if (accepts.length) return { scraper: true, reason: `${accepts.join(" and ")} configured` };
  const pid = await receiveProcess();
  if (pid !== null) return { scraper: true, reason: `\`edge-agent receive\` is running (pid ${pid})` };
  return { scraper: false, reason: "no receiver.communities or receiver.users configured and no `edge-agent receive` running" };
}
