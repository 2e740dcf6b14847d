// `edge-agent firewall trace|check`: one packet (or a file of them) through a saved ruleset, or
// the tailscaled-port questions against this host's live ruleset.
import { readFileSync, statSync } from "node:fs";
import { UsageError } from "../cli";
import { loadConfig } from "../config";
import { evaluate, type Decision } from "../firewall/evaluate";
import { MAX_RULESET_BYTES, parseRuleset, type RulesetFormat } from "../firewall/load";
import { makePacket, PacketError, type PacketSpec } from "../firewall/packet";
import { renderTrace } from "../firewall/render-trace";
import { RulesetError, type Ruleset } from "../firewall/ruleset";
import { collectFirewallState } from "../probes/collect";
import { isAvailable, type FirewallState } from "../state/node-state";

type Values = Record<string, string | boolean | string[] | undefined>;

const EXIT = { accept: 0, drop: 1, unknown: 3 } as const;

function readRuleset(path: string, format: string | undefined): Ruleset {
  if (format !== undefined && format !== "nft-json" && format !== "iptables-save") throw new UsageError(`--format must be nft-json or iptables-save, got "${format}"`);
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
    return parseRuleset(text, format as RulesetFormat | undefined);
  } catch (error) {
    if (error instanceof RulesetError) throw new UsageError(`${path}: ${error.message}`);
    throw error;
  }
}

function decisionJson(d: Decision): Record<string, unknown> {
  const out: Record<string, unknown> = { verdict: d.verdict, trace: d.trace, decidedBy: d.decidedBy };
  if (d.reason) out.reason = d.reason;
  return out;
}

const PACKET_FLAGS = ["direction", "family", "proto", "saddr", "daddr", "sport", "dport", "iif", "oif", "ct-state"];

async function trace(values: Values): Promise<number> {
  if (typeof values.ruleset !== "string") throw new UsageError("--ruleset FILE is required (e.g. from `nft -j list ruleset > FILE`)");
  const ruleset = readRuleset(values.ruleset, values.format as string | undefined);
  if (typeof values.packets === "string") {
    const given = PACKET_FLAGS.filter((f) => values[f] !== undefined);
    if (given.length) throw new UsageError(`--packets replaces the packet flags; drop --${given.join(", --")}`);
    let text: string;
    try {
      text = readFileSync(values.packets, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read packets ${values.packets}: ${(error as Error).message}`);
    }
    let worst = 0;
    const rank = (code: number) => [0, 1, 3, 2].indexOf(code);
    const lines = text.split("\n");
    for (let n = 0; n < lines.length; n++) {
      if (lines[n].trim() === "") continue;
      let code: number;
      try {
        const spec = JSON.parse(lines[n]) as unknown;
        if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new PacketError("not a JSON object");
        const d = evaluate(ruleset, makePacket(spec as Record<string, unknown>));
        process.stdout.write(`${JSON.stringify(decisionJson(d))}\n`);
        code = EXIT[d.verdict];
      } catch (error) {
        if (!(error instanceof PacketError) && !(error instanceof SyntaxError)) throw error;
        process.stdout.write(`${JSON.stringify({ error: `${values.packets} line ${n + 1}: ${error.message}` })}\n`);
        code = 2;
      }
      if (rank(code) > rank(worst)) worst = code;
    }
    return worst;
  }
  const missing = ["direction", "family", "proto", "saddr", "daddr", "sport", "dport"].filter((f) => values[f] === undefined);
  if (missing.length) throw new UsageError(`missing --${missing.join(", --")} (or give --packets FILE)`);
  const spec: PacketSpec = {
    direction: values.direction as PacketSpec["direction"], family: values.family as PacketSpec["family"], proto: values.proto as PacketSpec["proto"],
    saddr: values.saddr as string, daddr: values.daddr as string, sport: values.sport as unknown as number, dport: values.dport as unknown as number,
    iif: values.iif as string | undefined, oif: values.oif as string | undefined, ctState: (values["ct-state"] as PacketSpec["ctState"]) ?? "new",
  };
  let packet;
  try {
    packet = makePacket(spec as unknown as Record<string, unknown>);
  } catch (error) {
    if (error instanceof PacketError) throw new UsageError(`--${error.message.replace(/^ctState/, "ct-state")}`);
    throw error;
  }
  const d = evaluate(ruleset, packet);
  process.stdout.write(values.json ? `${JSON.stringify(decisionJson(d), null, 2)}\n` : renderTrace({ ...spec, sport: packet.sport, dport: packet.dport }, d));
  return EXIT[d.verdict];
}

export function renderCheck(fw: FirewallState): string {
  const lines = [`tailscaled UDP port ${fw.port} (${fw.portSource}); rules read from ${fw.backend}`];
  for (const n of fw.notes) lines.push(`note: ${n}`);
  for (const c of fw.checks) lines.push(`${c.id.padEnd(14)} ${c.verdict.padEnd(7)} ${c.verdict === "unknown" ? c.reason ?? c.decidedBy : c.decidedBy}`);
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
  return fw.checks.some((c) => c.verdict === "unknown") ? 3 : 0;
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
