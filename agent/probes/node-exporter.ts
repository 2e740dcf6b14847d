// node-exporter: does its metrics URL answer, which version is it, and does it also answer on
// the host's Tailscale IP (the address the scraper uses)?
import { redactUrl } from "../config";
import type { NodeExporterState } from "../state";
import { errorText } from "./deadline";

/** Reads node_exporter_build_info's version label from the exposition text. */
export function buildVersion(text: string): string | null {
  const line = text.split("\n").find((l) => l.startsWith("node_exporter_build_info{"));
  const match = line ? /[{,]version="([^"]*)"/.exec(line) : null;
  return match ? match[1] : null;
}

/** The same URL with its host replaced by a Tailscale IP. */
export function urlOnAddress(url: string, ip: string): string {
  const parsed = new URL(url);
  parsed.hostname = ip.includes(":") ? `[${ip}]` : ip;
  return parsed.toString();
}

/** Where the URL points: its host (an IPv6 address without brackets) and port (the scheme's default when none). */
export function urlEndpoint(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80)) };
}

type RequestFn = typeof import("node:http").request;

/**
 * GETs `url` with node:http(s) rather than fetch: fetch loads undici and compiles its WebAssembly
 * HTTP parser, which cost the daemon ~6 MiB RSS. `onChunk` sees the body as it arrives and
 * returns true when it has read enough, so a caller that only needs one line stops there.
 */
function scrape(url: string, timeoutMs: number, onChunk: (text: string) => boolean): Promise<void> {
  const parsed = new URL(url);
  // node:http sends the URL's userinfo as basic auth; messages name the URL without its password.
  const shown = redactUrl(url);
  // https only when asked for: loading TLS maps more of the node binary into memory.
  const request: RequestFn = parsed.protocol === "https:" ? require("node:https").request : require("node:http").request;
  return new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => reject(new Error(`${shown}: ${errorText(error)}`));
    const req = request(parsed, { headers: { Accept: "text/plain" }, timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        res.resume();
        reject(new Error(`${shown} answered HTTP ${status}${status === 401 ? (parsed.password ? ": node-exporter refused the URL's credentials" : ": node-exporter asks for basic auth; put user:password@ in probes.nodeExporter.url") : ""}`));
        return;
      }
      res.setEncoding("utf8");
      res.on("data", (text: string) => {
        if (onChunk(text)) {
          req.destroy();
          resolve();
        }
      });
      res.on("end", () => resolve());
      res.on("error", fail);
    });
    let timedOut = false;
    req.on("timeout", () => {
      timedOut = true;
      req.destroy(new Error(`${shown} did not answer within ${timeoutMs} ms`));
    });
    // The timeout's error already names the URL; any other is prefixed with it.
    req.on("error", (error) => (timedOut ? reject(error) : fail(error)));
    req.end();
  });
}

/** Reads the body until node_exporter_build_info's line is complete (about a third of it). */
async function scrapeLocal(url: string, timeoutMs: number): Promise<Pick<NodeExporterState, "up" | "version" | "error">> {
  let seen = "";
  let version: string | null = null;
  let found = false;
  try {
    await scrape(url, timeoutMs, (text) => {
      // Keep only what may hold a line not yet complete, so memory stays bounded.
      seen = seen.slice(seen.lastIndexOf("\n") + 1) + text;
      const at = seen.search(/^node_exporter_build_info\{/m);
      if (at < 0 || !seen.includes("\n", at)) return false;
      found = true;
      version = buildVersion(seen.slice(at));
      return true;
    });
    if (!found) throw new Error(`${redactUrl(url)} answered, but not with node-exporter's metrics`);
    return { up: true, version };
  } catch (error) {
    return { up: false, version: null, error: errorText(error) };
  }
}

/** Whether any Tailscale IP answers (the first answer settles it); null when there is none to try. */
async function scrapeTailnet(url: string, tailnetIps: string[], timeoutMs: number): Promise<Pick<NodeExporterState, "tailnetReachable" | "tailnetError">> {
  if (tailnetIps.length === 0) return { tailnetReachable: null };
  // An HTTP 2xx from the address is the answer; the body is not read.
  return Promise.any(tailnetIps.map((ip) => scrape(urlOnAddress(url, ip), timeoutMs, () => true))).then(
    () => ({ tailnetReachable: true }),
    (all: AggregateError) => ({ tailnetReachable: false, tailnetError: all.errors.map((error: unknown) => errorText(error)).join("; ") }),
  );
}

/** The local URL and the Tailscale IPs are asked at once, so a silent one costs one timeout. */
export async function probeNodeExporter(url: string, tailnetIps: string[], timeoutMs: number): Promise<NodeExporterState> {
  const [local, tailnet] = await Promise.all([scrapeLocal(url, timeoutMs), scrapeTailnet(url, tailnetIps, timeoutMs)]);
  return { url: redactUrl(url), up: local.up, version: local.version, tailnetReachable: tailnet.tailnetReachable, ...(local.error ? { error: local.error } : {}), ...(tailnet.tailnetError ? { tailnetError: tailnet.tailnetError } : {}) };
}
