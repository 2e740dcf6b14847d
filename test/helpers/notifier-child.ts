// A Notifier in its own process, so a test can SIGKILL it mid-outage: reads the config file named
// by argv[2], then one JSON StateEvent per stdin line; prints "queued <n>" after each notify and
// "stats <json>" every 100 ms. Run with: node -r tsx/cjs test/helpers/notifier-child.ts CONFIG
import { createInterface } from "node:readline";
import pino from "pino";
import { loadConfig } from "../../agent/config";
import { Notifier } from "../../agent/snmp/notifier";
import { sampleNodeState } from "./sample-node-state";

async function main(): Promise<void> {
  const config = loadConfig(process.argv[2]);
  const notifier = new Notifier(config, pino({ level: "debug" }, pino.destination(2)), { backoffMs: 100, maxBackoffMs: 300 });
  await notifier.start();
  let count = 0;
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (!line.trim()) return;
    const { event, hostname } = JSON.parse(line);
    notifier.notify(event, sampleNodeState({ hostname }));
    process.stdout.write(`queued ${++count}\n`);
  });
  setInterval(() => process.stdout.write(`stats ${JSON.stringify(notifier.stats())}\n`), 100);
}

main().catch((error) => {
  process.stderr.write(`notifier-child: ${(error as Error).stack}\n`);
  process.exit(70);
});
