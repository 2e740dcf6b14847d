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

export async function probeNodeExporter(url: string, tailnetIps: string[], timeoutMs: number): Promise<NodeExporterState> {
  const state: NodeExporterState = { url, up: false, version: null, tailnetReachable: null };
  try {
    const body = await scrape(url, timeoutMs);
    state.version = buildVersion(body);
    if (!body.includes("node_exporter_build_info")) throw new Error(`${url} answered, but not with node-exporter's metrics`);
    state.up = true;
  } catch (error) {
    state.error = errorText(error);
  }
  if (tailnetIps.length > 0) {
    const errors: string[] = [];
    for (const ip of tailnetIps) {
      try {
        await scrape(urlOnAddress(url, ip), timeoutMs);
        state.tailnetReachable = true;
        break;
      } catch (error) {
        errors.push(errorText(error));
      }
    }
    if (state.tailnetReachable !== true) {
      state.tailnetReachable = false;
      state.tailnetError = errors.join("; ");
    }
  }
  return state;
}
