// `edge-agent doctor`'s budget (DESIGN.md: with everything local up, wall time within 5x of a
// bare Node start-up), measured side by side in one run: a node's network namespace with
// node-exporter and snmpd (AgentX master) in it, the tailscaled LocalAPI test server (direct
// path, tags present), the scraper's name in the namespace's hosts file and an snmptrapd
// acknowledging the test inform; then, alternating, `node -e 0` and
// a full `edge-agent doctor` (every check), both started through the same namespace wrapper.
// The doctor runs as the packages ship it (scripts/build.sh's bundle) and as the README's first
// command runs it in a checkout (`npx edge-agent doctor`: bin/edge-agent.js, which runs the bundle
// `npm ci` built), the latter against `npx -c true`, npm's own start-up. The untimed first run of
// each writes what a user's first run writes (the launcher's code cache for `doctor`), so the
// rounds time the runs after it. Prints medians and ratios.
// Usage (root): npx tsx scripts/bench/doctor.ts [rounds]
import { emitBenchResult } from "./report";
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createNetns } from "../../test/helpers/netns";
import { startNodeExporter } from "../../test/helpers/node-exporter";
import { waitFor } from "../../test/helpers/ports";
import { startSnmpd } from "../../test/helpers/snmpd";
import { startSnmptrapd } from "../../test/helpers/snmptrapd";
import { defaultScenario, startFakeTailscaled } from "../../test/helpers/tailscaled";

const REPO = resolve(__dirname, "../..");
const ROUNDS = Number(process.argv[2] ?? 7);
const TARGET_RATIO = 5;
/** `npx edge-agent doctor` against `npx -c true` (issue 21's goal). */
const TARGET_NPX_RATIO = 1.6;

function timed(argv: string[]): Promise<{ ms: number; code: number; stdout: string }> {
  const start = process.hrtime.bigint();
  return new Promise((done) => {
    execFile(argv[0], argv.slice(1), { cwd: REPO, maxBuffer: 8 << 20 }, (error, stdout) => {
      const code = error ? (typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : -1) : 0;
      done({ ms: Number(process.hrtime.bigint() - start) / 1e6, code, stdout });
    });
  });
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root: the bench makes a network namespace");
  const dir = mkdtempSync(join(tmpdir(), "ea-bench-doctor-"));
  const ns = createNetns("eabd");
  const stops: (() => Promise<void> | void)[] = [() => ns.remove(), () => rmSync(dir, { recursive: true, force: true })];
  try {
    for (const link of ["eth0", "tailscale0"]) {
      ns.exec("ip", ["link", "add", link, "type", "veth", "peer", "name", `${link}-peer`]);
      ns.exec("ip", ["link", "set", `${link}-peer`, "up"]);
      ns.exec("ip", ["link", "set", link, "up"]);
    }
    ns.exec("ip", ["addr", "add", "100.80.1.2/24", "dev", "eth0"]);
    ns.exec("ip", ["-6", "addr", "add", "2001:db8:100:1::10/64", "dev", "eth0", "nodad"]);
    ns.exec("ip", ["addr", "add", "100.101.102.103/32", "dev", "tailscale0"]);
    ns.exec("ip", ["-6", "addr", "add", "fd7a:115c:a1e0::1234:5678/128", "dev", "tailscale0", "nodad"]);

    const tailscaled = await startFakeTailscaled(defaultScenario());
    stops.unshift(() => tailscaled.stop());
    const textfile = mkdtempSync(join(dir, "textfile-"));
    const ne = await startNodeExporter({ netns: ns.name, listen: ":9100", port: 9100, textfileDir: textfile });
    stops.unshift(() => ne.stop());
    const snmpd = await startSnmpd({ netns: ns.name, port: 161, listen: ["udp:0.0.0.0:161", "udp6:[::]:161"], extra: ["rocommunity edgetest 100.64.0.0/10", "rocommunity6 edgetest fd7a:115c:a1e0::/48", "master agentx", "agentXSocket tcp:127.0.0.1:705"] });
    stops.unshift(() => snmpd.stop());
    const trapd = await startSnmptrapd({ netns: ns.name });
    stops.unshift(() => trapd.stop());
    await waitFor("node-exporter in the namespace", () => readFileSync(`/proc/${ns.anchorPid}/net/tcp6`, "utf8").includes(":238C "));

    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      JSON.stringify({
        scraper: "scraper",
        tailscale: { socket: tailscaled.socket },
        ipv6: { allocations: ["2001:db8:100::/56"] },
        probes: { snmpd: { community: "edgetest" } },
        notifications: { target: `127.0.0.1:${trapd.port}`, community: "edgetest", inform: true },
        textfile: { directory: textfile },
      }),
      { mode: 0o640 },
    );
    // `ip netns exec` binds /etc/netns/NAME/* over /etc: the namespace's own hosts file.
    mkdirSync(`/etc/netns/${ns.name}`, { recursive: true });
    stops.push(() => rmSync(`/etc/netns/${ns.name}`, { recursive: true, force: true }));
    writeFileSync(`/etc/netns/${ns.name}/hosts`, "127.0.0.1 localhost\n100.64.0.1 scraper\n");
    const bundle = join(dir, "bundle", "edge-agent");
    execFileSync("bash", [join(REPO, "scripts/build.sh")], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, BUNDLE_OUT: join(dir, "bundle") } });
    // What `npm ci` leaves in a checkout (package.json's prepare), which `npx edge-agent` runs.
    execFileSync("bash", [join(REPO, "scripts/build.sh")], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });

    // Everything starts through the same wrapper, so its cost is in both sides of the ratio.
    const wrap = ["ip", "netns", "exec", ns.name];
    const node = [...wrap, process.execPath, "-e", "0"];
    const doctorBundle = [...wrap, process.execPath, bundle, "doctor", "--config", config];
    const npxTrue = [...wrap, "npx", "--no-install", "-c", "true"];
    const doctorCheckout = [...wrap, "npx", "--no-install", "edge-agent", "doctor", "--config", config];

    const first = await timed(doctorBundle);
    process.stdout.write(`doctor's own view of the bench host (exit ${first.code}):\n${first.stdout}\n`);
    const viaNpx = await timed(doctorCheckout);
    // A bench of a command that failed to run measures nothing: both must print doctor's summary.
    for (const [name, run] of [["the bundle", first], ["npx edge-agent", viaNpx]] as const)
      if (!/^\d+ checks: /m.test(run.stdout)) throw new Error(`${name}'s doctor printed no report (exit ${run.code}): ${run.stdout}`);
    const times = { node: [] as number[], bundle: [] as number[], npxTrue: [] as number[], checkout: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      times.node.push((await timed(node)).ms);
      times.bundle.push((await timed(doctorBundle)).ms);
      times.npxTrue.push((await timed(npxTrue)).ms);
      times.checkout.push((await timed(doctorCheckout)).ms);
    }
    const base = median(times.node);
    const rows = [
      ["node -e 0", base],
      ["edge-agent doctor (bundle, as packaged)", median(times.bundle)],
      ["npx -c true", median(times.npxTrue)],
      ["npx edge-agent doctor (checkout)", median(times.checkout)],
    ] as const;
    process.stdout.write(`medians over ${ROUNDS} alternating rounds (load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}):\n`);
    for (const [name, ms] of rows) process.stdout.write(`  ${name.padEnd(42)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / base).toFixed(2)}x\n`);
    const json = JSON.parse((await timed([...doctorBundle, "--json"])).stdout) as { checks: { id: string; durationMs: number }[]; summary: { durationMs: number } };
    const slowest = [...json.checks].sort((a, b) => b.durationMs - a.durationMs).slice(0, 4);
    process.stdout.write(`  inside doctor: ${json.summary.durationMs} ms for the checks; slowest ${slowest.map((c) => `${c.id} ${c.durationMs} ms`).join(", ")}\n`);
    const ratio = median(times.bundle) / base;
    process.stdout.write(`doctor/node start-up ratio (bundle): ${ratio.toFixed(2)} — target within ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? "met" : "NOT met"}\n`);
    const npxRatio = median(times.checkout) / median(times.npxTrue);
    process.stdout.write(`npx edge-agent doctor / npx -c true: ${npxRatio.toFixed(2)} — target within ${TARGET_NPX_RATIO}x: ${npxRatio <= TARGET_NPX_RATIO ? "met" : "NOT met"}\n`);
    emitBenchResult("doctor", [
      { metric: "doctor wall time, all local services up (bundle, median)", value: Math.round(median(times.bundle)), unit: "ms", reference: Math.round(base), referenceName: "node -e 0", ratio: Math.round(ratio * 100) / 100, target: `<= ${TARGET_RATIO}x`, pass: ratio <= TARGET_RATIO },
      {
        metric: "npx edge-agent doctor in a checkout (median)",
        value: Math.round(median(times.checkout)),
        unit: "ms",
        reference: Math.round(median(times.npxTrue)),
        referenceName: "npx -c true",
        ratio: Math.round(npxRatio * 100) / 100,
        target: `<= ${TARGET_NPX_RATIO}x`,
        pass: npxRatio <= TARGET_NPX_RATIO,
      },
    ]);
  } finally {
    for (const stop of stops) await stop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
