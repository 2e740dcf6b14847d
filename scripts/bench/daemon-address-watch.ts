// Measures the two ways the daemon could notice an IPv6 address being added or removed: an
// `ip -o monitor address` child (netlink events) and polling /proc/net/if_inet6. Runs in a
// network namespace of its own (root), prints latency per change, CPU per poll and the child's
// RSS, side by side. Usage: npx tsx scripts/bench/daemon-address-watch.ts
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createNetns } from "../../test/helpers/netns";
import { emitBenchResult } from "./report";

const ROUNDS = 20;
const POLL_MS = 500;

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return line ? Number(line.replace(/\D+/g, "")) : NaN;
}

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `median ${p(0.5).toFixed(1)} ms, p95 ${p(0.95).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1];
}

async function main(): Promise<void> {
  const ns = createNetns("eabw");
  try {
    ns.exec("ip", ["link", "add", "dummy0", "type", "veth", "peer", "name", "dummy1"]);
    ns.exec("ip", ["link", "set", "dummy1", "up"]);
    ns.exec("ip", ["link", "set", "dummy0", "up"]);
    const path = `/proc/${ns.anchorPid}/net/if_inet6`;

    // Watcher 1: ip -o monitor address (netlink), one line per change.
    const monitor = spawn("ip", ["netns", "exec", ns.name, "ip", "-o", "monitor", "address"], { stdio: ["ignore", "pipe", "ignore"] });
    let monitorSeen: (() => void) | null = null;
    monitor.stdout.on("data", () => monitorSeen?.());
    // Watcher 2: poll /proc/net/if_inet6 and compare the text.
    let last = readFileSync(path, "utf8");
    let pollSeen: (() => void) | null = null;
    const timer = setInterval(async () => {
      const text = await readFile(path, "utf8");
      if (text !== last) {
        last = text;
        pollSeen?.();
      }
    }, POLL_MS);
    await new Promise((r) => setTimeout(r, 1000));

    const monitorLatency: number[] = [];
    const pollLatency: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const op = i % 2 === 0 ? "add" : "del";
      const seenMonitor = new Promise<number>((resolve) => (monitorSeen = () => resolve(performance.now())));
      const seenPoll = new Promise<number>((resolve) => (pollSeen = () => resolve(performance.now())));
      // Start at a random phase of the poll interval, as a real change would.
      await new Promise((r) => setTimeout(r, Math.random() * POLL_MS));
      const start = performance.now();
      execFileSync("ip", ["netns", "exec", ns.name, "ip", "-6", "addr", op, "2001:db8:100:1::10/64", "dev", "dummy0", "nodad"]);
      const [m, p] = await Promise.all([seenMonitor, seenPoll]);
      monitorLatency.push(m - start);
      pollLatency.push(p - start);
      monitorSeen = pollSeen = null;
    }
    clearInterval(timer);
    const monitorRss = rssKiB(monitor.pid!);
    monitor.kill("SIGTERM");

    // CPU of one poll, measured apart from the interval (1000 reads back to back).
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < 1000; i++) await readFile(path, "utf8");
    const cpuAfter = process.cpuUsage(cpuBefore);
    const perPollUs = (cpuAfter.user + cpuAfter.system) / 1000;
    console.log(`IPv6 address change -> noticed, ${ROUNDS} changes (add/remove alternating):`);
    console.log(`  ip -o monitor address : ${stats(monitorLatency)}; a child process of ${(monitorRss / 1024).toFixed(1)} MiB RSS (the 'ip netns exec' wrapper execs into it)`);
    console.log(`  poll if_inet6 /${POLL_MS}ms: ${stats(pollLatency)}; ${perPollUs.toFixed(0)} µs CPU per poll (${((perPollUs * (1000 / POLL_MS)) / 1e4).toFixed(3)} % of one core), no extra process`);
    console.log(`  ratio of medians (poll / monitor): ${(median(pollLatency) / median(monitorLatency)).toFixed(1)}x (both include ~20 ms of spawning the \`ip addr\` that makes the change)`);
    emitBenchResult("daemon-address-watch", [
      { metric: "address change noticed by polling /proc/net/if_inet6 (median)", value: Number(median(pollLatency).toFixed(1)), unit: "ms", reference: Number(median(monitorLatency).toFixed(1)), referenceName: "ip -o monitor address", ratio: Number((median(pollLatency) / median(monitorLatency)).toFixed(1)), target: "< 2000 ms", pass: Math.max(...pollLatency) < 2000 },
    ]);
  } finally {
    ns.remove();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
