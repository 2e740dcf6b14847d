// node-exporter: does its metrics URL answer, which version is it, and does it also answer on
// the host's Tailscale IP (the address the scraper uses)?
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

async function scrape(url: string, timeoutMs: number): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: controller.signal, headers: { Accept: "text/plain" } });
    const body = await res.text();
    if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
    return body;
  } catch (error) {
    if (controller.signal.aborted) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    const cause = (error as { cause?: unknown }).cause;
    throw new Error(`${url}: ${errorText(cause ?? error)}`);
  } finally {
    clearTimeout(timer);
  }
}

async function scrapeLocal(url: string, timeoutMs: number): Promise<Pick<NodeExporterState, "up" | "version" | "error">> {
  try {
    const body = await scrape(url, timeoutMs);
    if (!body.includes("node_exporter_build_info")) throw new Error(`${url} answered, but not with node-exporter's metrics`);
    return { up: true, version: buildVersion(body) };
  } catch (error) {
    return { up: false, version: null, error: errorText(error) };
  }
}

/** Whether any Tailscale IP answers; null when there is none to try. */
async function scrapeTailnet(url: string, tailnetIps: string[], timeoutMs: number): Promise<Pick<NodeExporterState, "tailnetReachable" | "tailnetError">> {
  if (tailnetIps.length === 0) return { tailnetReachable: null };
  const results = await Promise.all(tailnetIps.map((ip) => scrape(urlOnAddress(url, ip), timeoutMs).then(() => null, (error: unknown) => errorText(error))));
  return results.includes(null) ? { tailnetReachable: true } : { tailnetReachable: false, tailnetError: results.join("; ") };
}

/** The local URL and the Tailscale IPs are asked at once, so a silent one costs one timeout. */
export async function probeNodeExporter(url: string, tailnetIps: string[], timeoutMs: number): Promise<NodeExporterState> {
  const [local, tailnet] = await Promise.all([scrapeLocal(url, timeoutMs), scrapeTailnet(url, tailnetIps, timeoutMs)]);
  return { url, up: local.up, version: local.version, tailnetReachable: tailnet.tailnetReachable, ...(local.error ? { error: local.error } : {}), ...(tailnet.tailnetError ? { tailnetError: tailnet.tailnetError } : {}) };
}
