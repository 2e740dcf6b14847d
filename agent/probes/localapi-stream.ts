// The first object of a LocalAPI stream (watch-ipn-bus answers with newline-separated JSON and
// never ends): read up to the first newline, parse it, close the connection.
import { request } from "node:http";
import { LocalApiError } from "./localapi";

/** A netmap of a large tailnet is a few MB; more than this means something is wrong. */
const MAX_FIRST_OBJECT = 64 * 1024 * 1024;

export function localApiFirstObject<T>(socketPath: string, path: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      if (error) reject(error);
      else resolve(value as T);
    };
    // A whole-request deadline: a socket timeout alone would let a slow trickle run forever.
    const timer = setTimeout(() => finish(new LocalApiError(`tailscaled did not answer ${path} within ${timeoutMs} ms`)), timeoutMs);
    const req = request({ socketPath, method: "GET", path, headers: { Host: "local-tailscaled.sock" } }, (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        if (settled) return;
        const nl = status >= 200 && status <= 299 ? chunk.indexOf(0x0a) : -1;
        chunks.push(nl >= 0 ? chunk.subarray(0, nl) : chunk);
        size += chunk.length;
        if (nl >= 0) {
          const line = Buffer.concat(chunks).toString("utf8");
          try {
            finish(null, JSON.parse(line) as T);
          } catch {
            finish(new LocalApiError(`tailscaled's first object on ${path} is not JSON: ${JSON.stringify(line.slice(0, 80))}`));
          }
        } else if (size > MAX_FIRST_OBJECT) {
          finish(new LocalApiError(`${path}: first object larger than 64 MB`));
        }
      });
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (status < 200 || status > 299) finish(new LocalApiError(`tailscaled answered ${status} to GET ${path}: ${body.trim().slice(0, 200)}`, status));
        else finish(new LocalApiError(`tailscaled closed ${path} before sending a whole object`));
      });
      res.on("error", (error) => finish(error));
    });
    req.on("error", (error) => finish(error));
    req.end();
  });
}
