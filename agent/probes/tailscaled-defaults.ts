// tailscaled's port as its packages configure it: PORT in /etc/default/tailscaled (Debian's and
// Tailscale's own .deb and .rpm both ship it, and tailscaled.service passes --port=$PORT). The
// firewall probe's last word on the port before Tailscale's default, when neither the LocalAPI
// nor tailscaled's socket can tell the port really bound.
import { readFile } from "node:fs/promises";

export const TAILSCALED_DEFAULTS = "/etc/default/tailscaled";

/**
 * Pure: the port a shell sourcing this file would set, the last PORT= assignment winning. Quoted
 * or bare, after `export`; a value that is no port (empty, 0 = random, a variable) gives null.
 */
export function parsePortAssignment(text: string): number | null {
  let value: string | null = null;
  for (const line of text.split("\n")) {
    const m = /^\s*(?:export\s+)?PORT=(?:"([^"]*)"|'([^']*)'|([^\s#;]*))\s*(?:[#;].*)?$/.exec(line);
    if (m) value = m[1] ?? m[2] ?? m[3];
  }
  if (value === null || !/^\d{1,5}$/.test(value)) return null;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : null;
}

/** The file's PORT, or null when it is absent, unreadable or sets none. */
export async function tailscaledDefaultsPort(path = TAILSCALED_DEFAULTS): Promise<number | null> {
  try {
    return parsePortAssignment(await readFile(path, "utf8"));
  } catch {
    return null;
  }
}
