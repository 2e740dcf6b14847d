// The lab's tailscaled: one long-lived process serving every node's LocalAPI socket with the
// test server (test/helpers/tailscaled.ts, the project's one stand-in). Each node's answers come
// from <lab>/<node>/tailscaled.json and follow edits to it, so the lab or a test can change a
// node's tailnet (tags, path to the scraper) while everything runs.
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { startFakeTailscaled, type FakeTailscaled, type Scenario } from "../../test/helpers/tailscaled";

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir || !existsSync(dir)) {
    process.stderr.write("usage: tailscaled-host.ts LAB_DIR (a directory scripts/lab up made)\n");
    process.exit(2);
  }
  const servers: { node: string; file: string; mtime: number; server: FakeTailscaled }[] = [];
  for (const node of readdirSync(dir)) {
    const file = join(dir, node, "tailscaled.json");
    if (!existsSync(file)) continue;
    const socket = join(dir, node, "tailscaled.sock");
    rmSync(socket, { force: true });
    const scenario = JSON.parse(readFileSync(file, "utf8")) as Scenario;
    const server = await startFakeTailscaled(scenario, socket);
    servers.push({ node, file, mtime: statSync(file).mtimeMs, server });
    process.stdout.write(`${new Date().toISOString()} ${node}: LocalAPI on ${socket}\n`);
  }
  setInterval(() => {
    for (const s of servers) {
      try {
        const mtime = statSync(s.file).mtimeMs;
        if (mtime === s.mtime) continue;
        s.server.scenario = JSON.parse(readFileSync(s.file, "utf8")) as Scenario;
        s.mtime = mtime;
        process.stdout.write(`${new Date().toISOString()} ${s.node}: scenario reloaded\n`);
      } catch (error) {
        // A half-written or broken file: keep answering from the last good scenario.
        process.stdout.write(`${new Date().toISOString()} ${s.node}: scenario not reloaded: ${(error as Error).message}\n`);
      }
    }
  }, 250);
  const stop = async () => {
    await Promise.all(servers.map((s) => s.server.stop()));
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

void main();
