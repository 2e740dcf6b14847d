// Runs the firewall managers operators use (ufw, firewalld, shorewall, shorewall6, ferm) inside
// a test namespace, as their own commands, against a private copy of their configuration:
// `ip netns exec` mounts /etc/netns/NAME/X over /etc/X, so the tools read and write the copy and
// the host's /etc is never touched. The legacy backend is chosen the same way, by a copy of
// /etc/alternatives whose iptables links name the -legacy binaries.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { evaluate } from "../../agent/firewall/evaluate";
import { makePacket } from "../../agent/firewall/packet";
import { readLiveRuleset, type ToolOutput, type RulesetHost } from "../../agent/probes/firewall";
import { batchDiffers, type Case } from "./firewall-lab";
import { parseIpv4Routes, parseIpv6Routes } from "../../agent/probes/routes";
import { addressValue } from "../../agent/firewall/packet";
import type { HostView } from "../../agent/firewall/host-view";

export type Backend = "nft" | "legacy";

const IPTABLES_LINKS = ["iptables", "iptables-restore", "iptables-save", "ip6tables", "ip6tables-restore", "ip6tables-save"];

/**
 * What an operator's root shell has, and no more: shorewall copies its environment into the
 * script it compiles, and npm's variables are not valid shell there.
 */
const TOOL_ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", LANG: "C.UTF-8" };

/** Runs a command in the namespace with the overlay; resolves with its output, rejects naming it. */
export function inNetns(ns: string, command: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("ip", ["netns", "exec", ns, command, ...args], { env: { ...TOOL_ENV, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`in ${ns}: ${command} ${args.join(" ")}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** `firewall check`'s reader pointed at the namespace: the same tools, run inside it. */
export function netnsHost(ns: string): RulesetHost {
  return {
    run: (command, args) => inNetns(ns, command, args).then(
      (stdout): ToolOutput => ({ stdout, missing: false, denied: false }),
      (error: Error): ToolOutput => ({ stdout: "", missing: false, denied: false, error: error.message }),
    ),
    legacyTablesPresent: (file) => inNetns(ns, "cat", [file]).then((t) => t.trim() !== "", () => false),
  };
}

/** The namespace's addresses and routes, as the probe reads the host's (/proc/net, addresses). */
export async function netnsHostView(ns: string): Promise<HostView> {
  const [v4, v6, addr] = await Promise.all([inNetns(ns, "cat", ["/proc/net/route"]), inNetns(ns, "cat", ["/proc/net/ipv6_route"]), inNetns(ns, "ip", ["-j", "addr"])]);
  const addresses: HostView["addresses"] = [];
  for (const link of JSON.parse(addr) as { addr_info: { family: string; local: string; prefixlen: number }[] }[]) {
    for (const a of link.addr_info) {
      const family = a.family === "inet6" ? "ipv6" : "ipv4";
      const value = addressValue(a.local, family);
      if (value !== null) addresses.push({ family, value, prefixLength: a.prefixlen });
    }
  }
  return { addresses, routes: [...parseIpv6Routes(v6), ...parseIpv4Routes(v4)] };
}

/** The private /etc of one namespace: fresh copies of the tools' directories for each scenario. */
export class EtcOverlay {
  readonly dir: string;
  constructor(readonly ns: string) {
    this.dir = `/etc/netns/${ns}`;
  }
  /** Starts a scenario: copies of the named /etc directories, iptables links for the backend. */
  prepare(backend: Backend, dirs: string[]): void {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    for (const d of dirs) cpSync(`/etc/${d}`, join(this.dir, d), { recursive: true, verbatimSymlinks: true });
    if (backend === "legacy") {
      cpSync("/etc/alternatives", join(this.dir, "alternatives"), { recursive: true, verbatimSymlinks: true });
      for (const link of IPTABLES_LINKS) {
        rmSync(join(this.dir, "alternatives", link), { force: true });
        symlinkSync(`/usr/sbin/${link.replace(/^(ip6?tables)/, "$1-legacy")}`, join(this.dir, "alternatives", link));
      }
    }
  }
  write(path: string, text: string): void {
    mkdirSync(join(this.dir, path, ".."), { recursive: true });
    writeFileSync(join(this.dir, path), text);
  }
  edit(path: string, change: (text: string) => string): void {
    writeFileSync(join(this.dir, path), change(readFileSync(join(this.dir, path), "utf8")));
  }
  copyFrom(sourceDir: string, target: string): void {
    for (const f of readdirSync(sourceDir)) if (!f.endsWith(".annotated") && f !== "README.txt") cpSync(join(sourceDir, f), join(this.dir, target, f));
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A private system bus and firewalld on it, inside the namespace; stopped by stop(). */
export class Firewalld {
  private bus?: ChildProcess;
  private daemon?: ChildProcess;
  private readonly tmp = mkdtempSync(join(tmpdir(), "ea-firewalld-"));
  readonly env: Record<string, string>;
  constructor(private readonly ns: string) {
    this.env = { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${this.tmp}/bus` };
  }

  async start(): Promise<void> {
    writeFileSync(join(this.tmp, "bus.conf"), `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=${this.tmp}/bus</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="root"/><allow own="*"/><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/></policy></busconfig>
`);
    this.bus = spawn("dbus-daemon", ["--config-file", join(this.tmp, "bus.conf"), "--nofork", "--nopidfile"], { stdio: "ignore" });
    for (const deadline = Date.now() + 10_000; !existsSync(join(this.tmp, "bus")); await sleep(20)) if (Date.now() > deadline) throw new Error("dbus-daemon made no socket in 10 s");
    this.daemon = spawn("ip", ["netns", "exec", this.ns, "firewalld", "--nofork", "--nopid"], { stdio: "ignore", env: { ...TOOL_ENV, ...this.env } });
    for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
      const state = await this.cmd(["--state"]).catch(() => "");
      if (state.trim() === "running") return;
      if (Date.now() > deadline) throw new Error("firewalld did not reach state running in 60 s");
    }
  }

  cmd(args: string[]): Promise<string> {
    return inNetns(this.ns, "firewall-cmd", args, this.env);
  }

  stop(): void {
    this.daemon?.kill("SIGKILL");
    this.bus?.kill("SIGKILL");
    this.daemon = this.bus = undefined;
  }

  remove(): void {
    this.stop();
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Where a tool's rules are read from: nft's own listing, iptables-nft-save, the legacy tables. */
export type Source = "nft" | "iptables-nft" | "iptables-legacy";
/** An iptables tool's rules: in nft's listing (through iptables-nft-save where it has xt), or legacy. */
export const made = (backend: Backend): Source[] => (backend === "nft" ? ["nft", "iptables-nft"] : ["iptables-legacy"]);

/** The datagram's payload is its id (firewall-udp-peer.cjs): that is the length it has. */
export const withLength = (c: Case): Case => ({ ...c, length: Buffer.byteLength(c.id) });

export interface Tally {
  decided: number;
  unknown: number;
  wrong: string[];
  /** What the kernel did with the datagrams: a test where everything passes proves little. */
  kernelAccepted: number;
  kernelDropped: number;
  unknownReasons: Map<string, number>;
}

export function newTally(): Tally {
  return { decided: 0, unknown: 0, wrong: [], kernelAccepted: 0, kernelDropped: 0, unknownReasons: new Map() };
}

/** Empties the namespace's nft ruleset and legacy tables between scenarios. */
export async function resetNetns(ns: string): Promise<void> {
  await inNetns(ns, "nft", ["flush", "ruleset"]);
  for (const tool of ["iptables-legacy", "ip6tables-legacy"]) {
    for (const table of ["filter", "raw", "mangle", "nat"]) {
      await inNetns(ns, tool, ["-t", table, "-F"]).catch(() => "");
      await inNetns(ns, tool, ["-t", table, "-X"]).catch(() => "");
    }
    for (const chain of ["INPUT", "FORWARD", "OUTPUT"]) await inNetns(ns, tool, ["-P", chain, "ACCEPT"]).catch(() => "");
  }
}

/**
 * Reads the namespace's ruleset as `firewall check` does, sends the cases, tallies the
 * comparison and fails on a wrong verdict. `sources` is where the tool's rules must be found,
 * so a backend a scenario names is the one it ran.
 */
export async function compareLive(ns: string, tag: string, sources: Source[], cases: Case[], kernelVerdicts: (cases: Case[]) => Promise<Map<string, "accept" | "drop">>, tally: Tally): Promise<void> {
  const [live, host] = await Promise.all([readLiveRuleset(30_000, netnsHost(ns)), netnsHostView(ns)]);
  expect(live.ruleset.chains.some((c) => sources.includes(c.source as Source) && c.rules.length > 0), `${tag}: rules in ${sources.join(" or ")} tables (read from ${live.backend})`).toBe(true);
  const kernel = await kernelVerdicts(cases);
  const wrongBefore = tally.wrong.length;
  for (const c of cases) {
    if (kernel.get(c.id) === "accept") tally.kernelAccepted++;
    else tally.kernelDropped++;
    const packet = makePacket(c as unknown as Record<string, unknown>);
    const d = evaluate(live.ruleset, packet, host);
    const differs = batchDiffers(live.ruleset, packet, d, host);
    if (differs) tally.wrong.push(`${tag} (${live.backend}): ${c.direction} ${c.family} ${c.saddr}:${c.sport} -> ${c.daddr}:${c.dport}: ${differs}`);
    if (d.verdict === "unknown") {
      tally.unknown++;
      const why = `${tag}: ${d.reason}`;
      tally.unknownReasons.set(why, (tally.unknownReasons.get(why) ?? 0) + 1);
      continue;
    }
    tally.decided++;
    if (d.verdict !== kernel.get(c.id))
      tally.wrong.push(`${tag} (${live.backend}): ${c.direction} ${c.family} ${c.saddr}:${c.sport} -> ${c.daddr}:${c.dport}: evaluator ${d.verdict} (${d.decidedBy}), kernel ${kernel.get(c.id)}\n  trace: ${d.trace.map((s) => `${s.table}/${s.chain}#${s.handle ?? "policy"}=${s.result}`).join(" ")}`);
  }
  expect(tally.wrong.slice(wrongBefore), `${tag}: wrong verdicts`).toEqual([]);
}

/** The bar of a file's scenarios together: printed, 0 wrong, under 5% unknown, both verdicts seen. */
export function expectTally(what: string, tally: Tally): void {
  const total = tally.decided + tally.unknown;
  const reasons = [...tally.unknownReasons].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${n}x ${r}`);
  process.stdout.write(`${what}: ${total} packets (kernel: ${tally.kernelAccepted} accepted, ${tally.kernelDropped} dropped), ${tally.decided} decided, ${tally.unknown} unknown, ${tally.wrong.length} wrong\n${reasons.slice(0, 30).join("\n")}\n`);
  expect(tally.wrong.slice(0, 10), `${tally.wrong.length} wrong:\n${tally.wrong.slice(0, 10).join("\n")}`).toEqual([]);
  expect(total).toBeGreaterThan(0);
  expect(Math.min(tally.kernelAccepted, tally.kernelDropped) / total, "the scenarios make the kernel both accept and drop").toBeGreaterThan(0.1);
  expect(tally.unknown / total, reasons.slice(0, 10).join("\n")).toBeLessThan(0.05);
}
