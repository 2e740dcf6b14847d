// The pair lab's webhook receiver for Alertmanager: it appends every notification (the POSTed
// JSON) as one line to a file, so a test or a person can count what the cluster sent. GET
// answers how many it has had. Usage: webhook-sink.ts PORT FILE (listens on [::]:PORT).
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";

function main(): void {
  const [port, file] = process.argv.slice(2);
  if (!port || !file || !/^\d+$/.test(port)) {
    process.stderr.write("usage: webhook-sink.ts PORT FILE\n");
    process.exit(2);
  }
  let count = 0;
  const server = createServer((req, res) => {
    if (req.method !== "POST") {
      res.end(`${count}\n`);
      return;
    }
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      try {
        appendFileSync(file, JSON.stringify({ receivedAt: new Date().toISOString(), from: req.socket.remoteAddress, message: JSON.parse(body) }) + "\n");
        count++;
        res.end();
      } catch (error) {
        // Not JSON: say so to the sender, keep serving.
        res.statusCode = 400;
        res.end(`${(error as Error).message}\n`);
      }
    });
  });
  server.listen(Number(port), "::", () => process.stdout.write(`${new Date().toISOString()} webhook sink on [::]:${port}, notifications to ${file}\n`));
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main();
