// Resolves a name the way every other program on the host would (getaddrinfo: /etc/hosts, then
// MagicDNS's 100.100.100.100 when tailscaled manages resolv.conf), bounded by a timeout.
import { promises as dns } from "node:dns";
import { errorText, withDeadline } from "../../probes/deadline";

export type Resolution = { addresses: string[]; error?: undefined } | { addresses: null; error: string; code?: string };

export async function resolveName(name: string, timeoutMs: number): Promise<Resolution> {
  try {
    const found = await withDeadline(dns.lookup(name, { all: true, verbatim: true }), timeoutMs, `resolving "${name}"`);
    return { addresses: found.map((a) => a.address) };
  } catch (error) {
    return { addresses: null, error: errorText(error), code: (error as NodeJS.ErrnoException).code };
  }
}
