// Notices that tailscaled's state changed (logged out, stopped, restarted, re-tagged, new
// addresses or port) between probe cycles, so the daemon re-probes at once. It polls the
// LocalAPI status without peers (a small document even on a large tailnet) and compares the
// few fields that matter; a socket that stops answering is a change too.
import type { StatusDocument } from "../probes/tailscale";
import { findSocket, localApi } from "../probes/localapi";
import { existsSync } from "node:fs";
import { ChangePoller } from "./change-poller";

export const TAILNET_POLL_MS = 2000;

/** Pure: the fields whose change is worth a new cycle. */
export function tailnetWatchKey(doc: StatusDocument): string {
  const self = doc.Self ?? {};
  const port = (self.Addrs ?? []).map((a) => /:(\d+)$/.exec(a)?.[1]).find(Boolean) ?? "";
  return JSON.stringify([doc.BackendState ?? "", self.DNSName ?? "", [...(doc.TailscaleIPs ?? [])].sort(), [...(self.Tags ?? [])].sort(), port]);
}

/** Calls back when tailscaled's state, name, addresses, tags or port change, or it goes away. */
export function watchTailnet(configuredSocket: string | null, onChange: () => void, intervalMs = TAILNET_POLL_MS, timeoutMs = 1000): ChangePoller {
  const fingerprint = async (): Promise<string> => {
    const socket = findSocket(configuredSocket);
    if (!socket || !existsSync(socket)) return "no socket";
    try {
      return tailnetWatchKey(await localApi<StatusDocument>(socket, "GET", "/localapi/v0/status?peers=false", timeoutMs));
    } catch {
      return "unavailable";
    }
  };
  return new ChangePoller(fingerprint, onChange, intervalMs);
}
