// Notices that tailscaled's state changed (logged out, stopped, restarted, re-tagged, new
// addresses or port) between probe cycles, so the daemon re-probes at once. It polls the
// LocalAPI status without peers (a small document even on a large tailnet) and compares the
// few fields that matter; a socket that stops answering is a change too.
import type { StatusDocument } from "./probes/tailscale";
import { findSocket, localApi } from "./probes/localapi";
import { existsSync } from "node:fs";

export const TAILNET_POLL_MS = 2000;

/** Pure: the fields whose change is worth a new cycle. */
export function tailnetWatchKey(doc: StatusDocument): string {
  const self = doc.Self ?? {};
  const port = (self.Addrs ?? []).map((a) => /:(\d+)$/.exec(a)?.[1]).find(Boolean) ?? "";
  return JSON.stringify([doc.BackendState ?? "", self.DNSName ?? "", [...(doc.TailscaleIPs ?? [])].sort(), [...(self.Tags ?? [])].sort(), port]);
}

export class TailnetWatcher {
  private timer: NodeJS.Timeout | null = null;
  private last: string | null = null;
  private polling = false;

  constructor(
    private readonly socket: string | null,
    private readonly onChange: () => void,
    private readonly intervalMs = TAILNET_POLL_MS,
    private readonly timeoutMs = 1000,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    let key: string;
    try {
      const socket = findSocket(this.socket);
      if (!socket || !existsSync(socket)) key = "no socket";
      else key = tailnetWatchKey(await localApi<StatusDocument>(socket, "GET", "/localapi/v0/status?peers=false", this.timeoutMs));
    } catch {
      key = "unavailable";
    } finally {
      this.polling = false;
    }
    const changed = this.last !== null && key !== this.last;
    this.last = key;
    if (changed && this.timer) this.onChange();
  }
}
