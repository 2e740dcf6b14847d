// The receiver's HTTP side (receiver.metrics): GET/HEAD /metrics from the MetricsPage, the fleet
// page (fleet-page.ts) at /, the file_sd targets for Prometheus's http_sd at /targets, 404 and 405
// for anything else. The bodies are rendered once per fleet change and served from memory until
// the next (render-cache.ts). The page goes gzipped to
// a browser that takes it (a thousand rows of HTML are ~1.7 MiB, a phone on a relayed path gets
// a twentieth of that), compressed once per rendering.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import { gzipSync } from "node:zlib";
import { FLEET_PAGE_CSP } from "./fleet-page";
import { parseHostPort } from "./listen-address";
import type { MetricsPage } from "./metrics-page";
import type { RenderCache } from "./render-cache";

/** The fleet page's headers: HTML, no script or outside resource, not framed, never sniffed. */
const PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy": FLEET_PAGE_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
  Vary: "Accept-Encoding",
};

const acceptsGzip = (req: IncomingMessage): boolean => /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));

function failed(res: ServerResponse, what: string): (error: Error) => void {
  return (error) => void res.writeHead(500).end(`cannot render the ${what}: ${error.message}\n`);
}

export class MetricsServer {
  private constructor(private readonly server: Server) {}

  static open(address: string, page: MetricsPage, fleetPage: RenderCache, targets: RenderCache): Promise<MetricsServer> {
    const { host, port } = parseHostPort(address);
    let gzipped: { html: string; body: Buffer } | null = null;
    const gzipOf = (html: string): Buffer => {
      if (gzipped?.html !== html) gzipped = { html, body: gzipSync(html) };
      return gzipped.body;
    };
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { Allow: "GET, HEAD" }).end("method not allowed\n");
        return;
      }
      if (path === "/metrics") {
        page.parts().then(([own, fleet]) => {
          res.writeHead(200, { "Content-Type": page.contentType });
          if (req.method === "HEAD") return res.end();
          res.write(own);
          res.end(fleet);
        }, failed(res, "metrics"));
        return;
      }
      if (path === "/targets") {
        targets.current().then((json) => {
          res.writeHead(200, { "Content-Type": "application/json" });
          res.end(req.method === "HEAD" ? undefined : json);
        }, failed(res, "targets"));
        return;
      }
      if (path === "/") {
        fleetPage.current().then((html) => {
          const gzip = acceptsGzip(req);
          res.writeHead(200, gzip ? { ...PAGE_HEADERS, "Content-Encoding": "gzip" } : PAGE_HEADERS);
          if (req.method === "HEAD") return res.end();
          res.end(gzip ? gzipOf(html) : html);
        }, failed(res, "fleet page"));
        return;
      }
      res.writeHead(404).end("not found\n");
    });
    return new Promise((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(new Error(`cannot serve metrics on ${address}: ${error.code ?? error.message}${error.code === "EADDRINUSE" ? " (the port is taken: change receiver.metrics)" : ""}`)),
      );
      server.listen(port, host, () => resolve(new MetricsServer(server)));
    });
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}
