// The receiver's HTTP side (receiver.metrics): GET/HEAD /metrics from the MetricsPage, a small
// index page, 404 and 405 for anything else.
import { createServer, type Server } from "node:http";
import { parseHostPort } from "./listen-address";
import type { MetricsPage } from "./metrics-page";

const INDEX = '<html><head><title>edge-agent receiver</title></head><body><h1>edge-agent receiver</h1><p><a href="/metrics">Metrics</a></p></body></html>\n';

export class MetricsServer {
  private constructor(private readonly server: Server) {}

  static open(address: string, page: MetricsPage): Promise<MetricsServer> {
    const { host, port } = parseHostPort(address);
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { Allow: "GET, HEAD" }).end("method not allowed\n");
        return;
      }
      if (path === "/metrics") {
        page.parts().then(
          ([own, fleet]) => {
            res.writeHead(200, { "Content-Type": page.contentType });
            if (req.method === "HEAD") return res.end();
            res.write(own);
            res.end(fleet);
          },
          (error: Error) => res.writeHead(500).end(`cannot render metrics: ${error.message}\n`),
        );
        return;
      }
      if (path === "/") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(INDEX);
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
