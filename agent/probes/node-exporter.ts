// node-exporter: does its metrics URL answer, which version is it, and does it also answer on
// the host's Tailscale IP (the address the scraper uses)?
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import type { RequestOptions } from "node:https";
import type { PeerCertificate } from "node:tls";
import { redactUrl, type NodeExporterTls } from "../config";
import type { NodeExporterState, ServiceFailure } from "../state/services";
import { errorText } from "./deadline";

/** A scrape that failed, with the kind of failure the verdict is made on. */
class ScrapeFailed extends Error {
  // Not `code`: errorText() would print a field of that name after the message.
  constructor(readonly failure: ServiceFailure, message: string) {
    super(message);
  }
}

const failureOf = (error: unknown): ServiceFailure => (error instanceof ScrapeFailed ? error.failure : "probe-error");

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

/** Node's codes for a certificate that does not chain to a trusted CA. */
const UNTRUSTED = new Set(["DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"]);

/** What to set when node-exporter's certificate was refused; null for any other error. */
function certificateHint(error: unknown): string | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return null;
  if (UNTRUSTED.has(code)) return "set probes.nodeExporter.tls.caFile to the CA that signed node-exporter's certificate";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return "set probes.nodeExporter.tls.serverName to a name node-exporter's certificate carries";
  return null;
}

/**
 * node:https options holding node-exporter's certificate to `tls`. The name checked is the
 * configured URL's (or serverName), also when a Tailscale IP is asked: it is the same
 * node-exporter, and the scraper checks that name too.
 */
async function tlsOptions(url: string, tls: NodeExporterTls): Promise<RequestOptions> {
  let ca: string | undefined;
  if (tls.caFile) {
    try {
      ca = await readFile(tls.caFile, "utf8");
    } catch (error) {
      throw new ScrapeFailed("tls", `cannot read probes.nodeExporter.tls.caFile: ${errorText(error)}`);
    }
  }
  const name = tls.serverName ?? urlEndpoint(url).host;
  const { checkServerIdentity } = require("node:tls") as typeof import("node:tls");
  return {
    ...(ca ? { ca } : {}),
    // SNI carries names only (RFC 6066).
    ...(isIP(name) ? {} : { servername: name }),
    rejectUnauthorized: !tls.insecureSkipVerify,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert),
  };
}

/**
 * GETs `url` with node:http(s) rather than fetch: fetch loads undici and compiles its WebAssembly
 * HTTP parser, which cost the daemon ~6 MiB RSS. `onChunk` sees the body as it arrives and
 * returns true when it has read enough, so a caller that only needs one line stops there.
 */
function scrape(url: string, timeoutMs: number, https: RequestOptions | null, onChunk: (text: string) => boolean): Promise<void> {
  const parsed = new URL(url);
  // node:http sends the URL's userinfo as basic auth; messages name the URL without its password.
  const shown = redactUrl(url);
  // https only when asked for: loading TLS maps more of the node binary into memory.
  const request: RequestFn = https ? require("node:https").request : require("node:http").request;
  return new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => {
      const hint = certificateHint(error);
      const code: ServiceFailure = hint ? "tls" : (error as NodeJS.ErrnoException).code === "ECONNREFUSED" ? "not-listening" : "no-answer";
      reject(new ScrapeFailed(code, `${shown}: ${errorText(error)}${hint ? `; ${hint}` : ""}`));
    };
    const req = request(parsed, { headers: { Accept: "text/plain" }, timeout: timeoutMs, ...https }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        res.resume();
        reject(new ScrapeFailed("http-status", `${shown} answered HTTP ${status}${status === 401 ? (parsed.password ? ": node-exporter refused the URL's credentials" : ": node-exporter asks for basic auth; put user:password@ in probes.nodeExporter.url") : ""}`));
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
      req.destroy(new ScrapeFailed("timeout", `${shown} did not answer within ${timeoutMs} ms`));
    });
    // The timeout's error already names the URL; any other is prefixed with it.
    req.on("error", (error) => (timedOut ? reject(error) : fail(error)));
    req.end();
  });
}

/** Reads the body until node_exporter_build_info's line is complete (about a third of it). */
async function scrapeLocal(url: string, timeoutMs: number, https: RequestOptions | null): Promise<Pick<NodeExporterState, "up" | "version" | "code" | "error">> {
  let seen = "";
  let version: string | null = null;
  let found = false;
  try {
    await scrape(url, timeoutMs, https, (text) => {
      // Keep only what may hold a line not yet complete, so memory stays bounded.
      seen = seen.slice(seen.lastIndexOf("\n") + 1) + text;
      const at = seen.search(/^node_exporter_build_info\{/m);
      if (at < 0 || !seen.includes("\n", at)) return false;
      found = true;
      version = buildVersion(seen.slice(at));
      return true;
    });
    if (!found) throw new ScrapeFailed("not-node-exporter", `${redactUrl(url)} answered, but not with node-exporter's metrics`);
    return { up: true, version };
  } catch (error) {
    return { up: false, version: null, code: failureOf(error), error: errorText(error) };
  }
}

/** Whether any Tailscale IP answers (the first answer settles it); null when there is none to try. */
async function scrapeTailnet(url: string, tailnetIps: string[], timeoutMs: number, https: RequestOptions | null): Promise<Pick<NodeExporterState, "tailnetReachable" | "tailnetError">> {
  if (tailnetIps.length === 0) return { tailnetReachable: null };
  // An HTTP 2xx from the address is the answer; the body is not read.
  return Promise.any(tailnetIps.map((ip) => scrape(urlOnAddress(url, ip), timeoutMs, https, () => true))).then(
    () => ({ tailnetReachable: true }),
    (all: AggregateError) => ({ tailnetReachable: false, tailnetError: all.errors.map((error: unknown) => errorText(error)).join("; ") }),
  );
}

/** The local URL and the Tailscale IPs are asked at once, so a silent one costs one timeout. */
export async function probeNodeExporter(target: { url: string; tls: NodeExporterTls }, tailnetIps: string[], timeoutMs: number): Promise<NodeExporterState> {
  const { url } = target;
  let https: RequestOptions | null = null;
  if (new URL(url).protocol === "https:") {
    try {
      https = await tlsOptions(url, target.tls);
    } catch (error) {
      // Without the CA neither address can be asked.
      return { url: redactUrl(url), up: false, version: null, tailnetReachable: null, code: failureOf(error), error: errorText(error) };
    }
  }
  const [local, tailnet] = await Promise.all([scrapeLocal(url, timeoutMs, https), scrapeTailnet(url, tailnetIps, timeoutMs, https)]);
  return { url: redactUrl(url), up: local.up, version: local.version, tailnetReachable: tailnet.tailnetReachable, ...(local.error ? { code: local.code, error: local.error } : {}), ...(tailnet.tailnetError ? { tailnetError: tailnet.tailnetError } : {}) };
}
