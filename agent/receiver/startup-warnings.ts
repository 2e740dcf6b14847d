// What in the receiver's config makes it refuse notifications a user probably expects it to
// take: no credentials at all, or no way to verify who sends. Said at start (and after a
// reload) in the log, and by doctor's receiver-config check. Pure but for tailscaledSocket().
import { existsSync } from "node:fs";
import type { Config } from "../config";
import { findSocket } from "../probes/localapi";

/** The tailscaled socket whois would ask, if it exists (a configured path may not). */
export function tailscaledSocket(config: Pick<Config, "tailscale">): string | null {
  const socket = findSocket(config.tailscale.socket);
  return socket !== null && existsSync(socket) ? socket : null;
}

export interface ConfigWarning {
  code: "no-credentials" | "unverifiable-sources" | "claimed-addresses-trusted";
  text: string;
  fix: string;
}

export function startupWarnings(config: Pick<Config, "receiver">, tailscaledFound: boolean): ConfigWarning[] {
  const r = config.receiver;
  const warnings: ConfigWarning[] = [];
  if (r.communities.length === 0 && r.users.length === 0)
    warnings.push({
      code: "no-credentials",
      text: "receiver.communities and receiver.users are both empty: every notification will be refused",
      fix: "add the nodes' community to receiver.communities (or their v3 user to receiver.users) in /etc/edge-agent/config.yaml, then sudo systemctl reload edge-agent-receiver",
    });
  if (!tailscaledFound && r.allowSources.length === 0 && !r.trustClaimedAddresses)
    warnings.push({
      code: "unverifiable-sources",
      text: "no tailscaled socket to verify senders (whois) and no receiver.allowSources: notifications from nodes not already in the fleet will be refused as unverified",
      fix: "install and start tailscaled on the scraper, or set receiver.allowSources to the tailnet's prefixes (100.64.0.0/10, fd7a:115c:a1e0::/48)",
    });
  if (!tailscaledFound && r.trustClaimedAddresses)
    warnings.push({
      code: "claimed-addresses-trusted",
      text: "receiver.trustClaimedAddresses is on and no tailscaled can verify senders: any peer that lists its own address in a notification is taken as the node it names",
      fix: "make tailscaled answer on the scraper, or set receiver.allowSources and turn receiver.trustClaimedAddresses off",
    });
  return warnings;
}
