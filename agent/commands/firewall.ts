// `edge-agent firewall trace|check`: one packet (or a file of them) through a saved ruleset, or
// the tailscaled-port questions against this host's live ruleset.
import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { UsageError } from "../cli";
import { loadConfig } from "../config";
import { evaluate, type Decision } from "../firewall/evaluate";
import { detectFormat, MAX_RULESET_BYTES, parseRuleset, type RulesetFormat } from "../firewall/load";
import { makePacket, PacketError, type PacketSpec } from "../firewall/packet";
import { renderTrace } from "../firewall/render-trace";
import { wasAsked } from "../firewall/questions";
import { RulesetError, type Ruleset } from "../firewall/ruleset";
import { collectFirewallState } from "../probes/collect";
import { isAvailable, type FirewallState } from "../state/node-state";
import { readRoutes, routeDevice, type Route } from "../probes/routes";

type Values = Record<string, string | boolean | string[] | undefined>;

const EXIT = { accept: 0, drop: 1, unknown: 3 } as const;

async function readRuleset(path: string, format: string | undefined): Promise<Ruleset> {
  if (format !== undefined && format !== "nft-json" && format !== "iptables-save" && format !== "nft") throw new UsageError(`--format must be nft-json, nft or iptables-save, got "${format}"`);
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_RULESET_BYTES) throw new UsageError(`${path} is ${size} bytes, more than a ruleset can be (${MAX_RULESET_BYTES})`);
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ruleset ${path}: ${(error as Error).message}`);
  }
  try {
    const fmt = (format as RulesetFormat | undefined) ?? detectFormat(text);
    return fmt === "nft" ? parseRuleset(await nftTextAsJson(path), "nft-json") : parseRuleset(text, fmt);
  } catch (error) {
    if (error instanceof RulesetError) throw new UsageError(`${path}: ${error.message}`);
    throw error;
  }
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: MAX_RULESET_BYTES, env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` } }, (error, stdout, stderr) => {
      if (error) reject(new UsageError(`${command} ${args.join(" ")}: ${`${stderr}`.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * nft's text form, read by nft itself: loaded into a throwaway network namespace and listed
 * back as JSON, so nothing is guessed (variables, includes, defines all resolve as nft does).
 */
async function nftTextAsJson(path: string): Promise<string> {
  if (process.getuid?.() !== 0)
    throw new UsageError(`${path} is nft's text form, which only nft reads: as root, edge-agent loads it into a throwaway network namespace and reads it back; otherwise give nft's JSON (sudo nft -j list ruleset > FILE)`);
  const ns = `edge-agent-trace-${process.pid}`;
  await run("ip", ["netns", "add", ns]);
  try {
    await run("ip", ["netns", "exec", ns, "nft", "-f", resolvePath(path)]);
    return await run("ip", ["netns", "exec", ns, "nft", "-j", "list", "ruleset"]);
  } finally {
    await run("ip", ["netns", "del", ns]).catch(() => undefined);
  }
}

function decisionJson(d: Decision, assumed: Assumed): Record<string, unknown> {
  const out: Record<string, unknown> = { verdict: d.verdict, trace: d.trace, decidedBy: d.decidedBy };
  if (d.reason) out.reason = d.reason;
  if (assumed.iif !== undefined || assumed.oif !== undefined) out.assumed = assumed;
  return out;
}

type Assumed = { iif?: string; oif?: string };

/**
 * Pure: the interfaces this host's routes give a packet that names none, as `check` takes
 * them: it comes in by the route back to its source (inbound, forwarded) and leaves by the
 * route to its destination (outbound, forwarded). A locally sent packet has no input interface.
 */
export function assumeInterfaces(spec: PacketSpec, routes: Route[]): Assumed {
  const assumed: Assumed = {};
  if (spec.iif === undefined && spec.direction !== "out") {
    const dev = routeDevice(routes, spec.saddr);
    if (dev) assumed.iif = dev;
  }
  if (spec.oif === undefined && spec.direction !== "in") {
    const dev = routeDevice(routes, spec.daddr);
    if (dev) assumed.oif = dev;
  }
  return assumed;
}

function describeAssumed(spec: PacketSpec, assumed: Assumed): string {
  const parts = [assumed.iif !== undefined ? `--iif ${assumed.iif} (this host's route to ${spec.saddr})` : "", assumed.oif !== undefined ? `--oif ${assumed.oif} (this host's route to ${spec.daddr})` : ""];
  return parts.some(Boolean) ? `assumed ${parts.filter(Boolean).join(", ")}\n` : "";
}

const OUTPUT_CHUNK = 64 * 1024;

const PACKET_FLAGS = ["direction", "family", "proto", "saddr", "daddr", "sport", "dport", "iif", "oif", "ct-state", "length"];

/**
 * A file of JSON-lines packets, one answer line each (an error line for a bad one); the exit
 * code is the worst: a bad line, then unknown, then drop. The packets are a batch to the
 * evaluator, which sorts each chain's rules out once per class of packets.
 */
function tracePackets(ruleset: Ruleset, text: string, file: string, routes: Route[]): number {
  let worst = 0;
  const rank = (code: number) => [0, 1, 3, 2].indexOf(code);
  const lines = text.split("\n");
  // One write per many lines: a write per line costs a system call each.
  let out = "";
  const emit = (line: string) => {
    out += `${line}\n`;
    if (out.length >= OUTPUT_CHUNK) { process.stdout.write(out); out = ""; }
  };
  try {
    for (let n = 0; n < lines.length; n++) {
      if (lines[n].trim() === "") continue;
      let code: number;
      try {
        const spec = JSON.parse(lines[n]) as unknown;
        if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new PacketError("not a JSON object");
        const packet = makePacket(spec as Record<string, unknown>);
        const assumed = assumeInterfaces(packet, routes);
        const d = evaluate(ruleset, { ...packet, ...assumed }, undefined, { batch: true });
        emit(JSON.stringify(decisionJson(d, assumed)));
        code = EXIT[d.verdict];
      } catch (error) {
        if (!(error instanceof PacketError) && !(error instanceof SyntaxError)) throw error;
        emit(JSON.stringify({ error: `${file} line ${n + 1}: ${error.message}` }));
        code = 2;
      }
      if (rank(code) > rank(worst)) worst = code;
    }
  } finally {
    if (out) process.stdout.write(out);
  }
  return worst;
}

async function trace(values: Values): Promise<number> {
  if (typeof values.ruleset !== "string") throw new UsageError("--ruleset FILE is required (e.g. from `nft -j list ruleset > FILE`, or /etc/nftables.conf)");
  const ruleset = await readRuleset(values.ruleset, values.format as string | undefined);
  if (typeof values.packets === "string") {
    const given = PACKET_FLAGS.filter((f) => values[f] !== undefined);
    if (given.length) throw new UsageError(`--packets replaces the packet flags; drop --${given.join(", --")}`);
    let text: string;
    try {
      text = readFileSync(values.packets, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read packets ${values.packets}: ${(error as Error).message}`);
    }
    return tracePackets(ruleset, text, values.packets, await readRoutes());
  }
  const missing = ["direction", "family", "proto", "saddr", "daddr", "sport", "dport"].filter((f) => values[f] === undefined);
  if (missing.length) throw new UsageError(`missing --${missing.join(", --")} (or give --packets FILE)`);
  const spec: PacketSpec = {
    direction: values.direction as PacketSpec["direction"], family: values.family as PacketSpec["family"], proto: values.proto as PacketSpec["proto"],
    saddr: values.saddr as string, daddr: values.daddr as string, sport: values.sport as unknown as number, dport: values.dport as unknown as number,
    iif: values.iif as string | undefined, oif: values.oif as string | undefined, ctState: (values["ct-state"] as PacketSpec["ctState"]) ?? "new",
    length: values.length as unknown as number | undefined,
  };
  let packet;
  try {
    packet = makePacket(spec as unknown as Record<string, unknown>);
  } catch (error) {
    if (error instanceof PacketError) throw new UsageError(`--${error.message.replace(/^ctState/, "ct-state")}`);
    throw error;
  }
  const assumed = assumeInterfaces(packet, await readRoutes());
  const d = evaluate(ruleset, { ...packet, ...assumed });
  process.stdout.write(values.json ? `${JSON.stringify(decisionJson(d, assumed), null, 2)}\n` : describeAssumed(spec, assumed) + renderTrace({ ...spec, ...assumed, sport: packet.sport, dport: packet.dport }, d));
  return EXIT[d.verdict];
}

export function renderCheck(fw: FirewallState): string {
  const lines = [`tailscaled UDP port ${fw.port} (${fw.portSource}); rules read from ${fw.backend}`];
  for (const n of fw.notes) lines.push(`note: ${n}`);
  for (const c of fw.checks) {
    const verdict = wasAsked(c) ? c.verdict : "not asked";
    lines.push(`${c.id.padEnd(14)} ${verdict.padEnd(7)} ${c.verdict === "unknown" ? c.reason ?? c.decidedBy : c.decidedBy}`);
  }
  if (fw.checks.some((c) => c.verdict === "drop")) lines.push("A dropped check means tailnet traffic falls back to a DERP relay: allow UDP to and from the port above.");
  return `${lines.join("\n")}\n`;
}

async function check(values: Values): Promise<number> {
  const config = loadConfig(values.config as string | undefined);
  const fw = await collectFirewallState(config);
  if (!isAvailable(fw)) {
    process.stdout.write(values.json ? `${JSON.stringify(fw, null, 2)}\n` : `firewall: cannot be checked: ${fw.error}\n`);
    return 3;
  }
  process.stdout.write(values.json ? `${JSON.stringify(fw, null, 2)}\n` : renderCheck(fw));
  if (fw.checks.some((c) => c.verdict === "drop")) return 1;
  return fw.checks.some((c) => c.verdict === "unknown" && wasAsked(c)) ? 3 : 0;
}

export async function firewallCommand(values: Values, positionals: string[]): Promise<number> {
  const [sub, ...extra] = positionals;
  if (extra.length) throw new UsageError(`unexpected ${extra.join(" ")}`);
  if (sub === "trace") return trace(values);
  if (sub === "check") {
    const stray = ["ruleset", "format", "packets", ...PACKET_FLAGS].filter((f) => values[f] !== undefined);
    if (stray.length) throw new UsageError(`--${stray.join(", --")} belong to \`firewall trace\``);
    return check(values);
  }
  throw new UsageError(sub === undefined ? "say check or trace" : `unknown sub-command "${sub}" (check or trace)`);
}
