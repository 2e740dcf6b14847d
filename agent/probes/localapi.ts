// A minimal client for tailscaled's LocalAPI: HTTP over its unix socket, JSON answers.
// Reads need no privilege (the socket is 0666). No Referer/Origin header is ever sent:
// tailscaled refuses such requests.
import { existsSync } from "node:fs";
import { request } from "node:http";

export const SOCKET_CANDIDATES = ["/run/tailscale/tailscaled.sock", "/var/run/tailscale/tailscaled.sock"];

export function findSocket(configured: string | null): string | null {
  if (configured) return configured;
  return SOCKET_CANDIDATES.find((path) => existsSync(path)) ?? null;
}

export class LocalApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "LocalApiError";
  }
}

/** One LocalAPI call; rejects on transport errors, non-2xx answers and bodies that are not JSON. */
export function localApi<T>(socketPath: string, method: "GET" | "POST", path: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const req = request(
      { socketPath, method, path, headers: { Host: "local-tailscaled.sock", "Content-Length": "0" }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          // A status document for a large tailnet is a few MB; 64 MB means something is wrong.
          if (size > 64 * 1024 * 1024) {
            req.destroy(new LocalApiError(`${path}: answer larger than 64 MB`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) {
            reject(new LocalApiError(`tailscaled answered ${status} to ${method} ${path}: ${body.trim().slice(0, 200)}`, status));
            return;
          }
          try {
            resolve(JSON.parse(body) as T);
          } catch {
            reject(new LocalApiError(`tailscaled's answer to ${path} is not JSON: ${JSON.stringify(body.slice(0, 80))}`));
          }
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new LocalApiError(`tailscaled did not answer ${path} within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}
