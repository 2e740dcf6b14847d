// Asks the scraper's own tailscaled which node owns a source address (LocalAPI whois), with a
// short cache: a node's Tailscale IPs rarely change, and a burst of traps must not become a
// burst of LocalAPI calls. Concurrent lookups of one address share one request.
import { LocalApiError, localApi } from "../probes/localapi";
import { canonicalAddress, type WhoisResult } from "./identity";

interface WhoisResponse {
  Node?: { Name?: string; Addresses?: string[] };
}

export interface WhoisOptions {
  socket: string | null;
  timeoutMs?: number;
  /** How long an answer is reused. */
  ttlMs?: number;
  /** Most addresses remembered; the oldest are forgotten first. */
  maxEntries?: number;
}

export class Whois {
  private readonly cache = new Map<string, { at: number; result: Promise<WhoisResult> }>();
  private readonly timeoutMs: number;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  errors = 0;

  constructor(private readonly options: WhoisOptions) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 20_000;
  }

  get enabled(): boolean {
    return this.options.socket !== null;
  }

  lookup(address: string, port: number): Promise<WhoisResult> {
    const socket = this.options.socket;
    if (!socket) return Promise.resolve({ kind: "unavailable", error: "no tailscaled socket configured or found" });
    const ip = canonicalAddress(address);
    const now = Date.now();
    const cached = this.cache.get(ip);
    if (cached && now - cached.at < this.ttlMs) return cached.result;
    const hostPort = ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
    const result = localApi<WhoisResponse>(socket, "GET", `/localapi/v0/whois?addr=${encodeURIComponent(hostPort)}`, this.timeoutMs).then(
      (answer): WhoisResult => (answer.Node?.Name ? { kind: "node", name: answer.Node.Name, addresses: answer.Node.Addresses ?? [] } : { kind: "no-match" }),
      (error: unknown): WhoisResult => {
        if (error instanceof LocalApiError && error.status === 404) return { kind: "no-match" };
        this.errors++;
        // Failures are not cached for long: tailscaled may be restarting.
        this.cache.delete(ip);
        return { kind: "unavailable", error: (error as Error).message };
      },
    );
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(ip, { at: now, result });
    return result;
  }
}
