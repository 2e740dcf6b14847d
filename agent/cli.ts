// Argument parsing and dispatch only: each command's work lives in its own module, loaded when
// that command runs so `status` does not pay for the receiver's start-up.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { COMMAND_HELP, renderCommandHelp } from "./command-help";
import { ConfigError } from "./config-error";
import { AGENT_VERSION } from "./version";

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values = Record<string, string | boolean | string[] | undefined>;

interface Command {
  summary: string;
  usage: string;
  options: Options;
  /** The full usage `COMMAND --help` prints, when it does not fit the help table's one line. */
  details?: string;
  /** Positional arguments the command takes (sub-commands such as `firewall check`). */
  positionals?: boolean;
  handler: () => Promise<(values: Values, positionals: string[]) => Promise<number>>;
}

const configOption: Options = { config: { type: "string" } };

export const commands: Record<string, Command> = {
  run: {
    summary: "daemon: probe, notify, textfile metrics, AgentX",
    usage: "edge-agent run [--config FILE]",
    options: configOption,
    handler: async () => (require("./commands/run") as typeof import("./commands/run")).runCommand,
  },
  status: {
    summary: "probe once and print NodeState",
    usage: "edge-agent status [--config FILE] [--json]",
    options: { ...configOption, json: { type: "boolean" } },
    handler: async () => (require("./commands/status") as typeof import("./commands/status")).statusCommand,
  },
  doctor: {
    summary: "run every check once: what is wrong here and how to fix it",
    usage: "edge-agent doctor [--config FILE] [--json] [--check ID]...",
    options: { ...configOption, json: { type: "boolean" }, check: { type: "string", multiple: true } },
    handler: async () => (require("./commands/doctor") as typeof import("./commands/doctor")).doctorCommand,
  },
  firewall: {
    summary: "does tailscaled's UDP port get through the firewall (check: this host; trace: a saved ruleset)",
    usage: "edge-agent firewall check|trace [...]",
    details: [
      "edge-agent firewall check [--config FILE] [--json]",
      "       edge-agent firewall trace --ruleset FILE [--format nft-json|iptables-save]",
      "           --direction in|out|forward --family ipv6|ipv4 --proto udp|tcp --saddr A --daddr A",
      "           --sport N --dport N [--iif NAME] [--oif NAME] [--ct-state new|established|related|untracked] [--json]",
      "       edge-agent firewall trace --ruleset FILE [--format ...] --packets FILE   (JSON lines in, one JSON result per line out)",
    ].join("\n"),
    positionals: true,
    options: {
      ...configOption,
      json: { type: "boolean" },
      ruleset: { type: "string" },
      format: { type: "string" },
      packets: { type: "string" },
      direction: { type: "string" },
      family: { type: "string" },
      proto: { type: "string" },
      saddr: { type: "string" },
      daddr: { type: "string" },
      sport: { type: "string" },
      dport: { type: "string" },
      iif: { type: "string" },
      oif: { type: "string" },
      "ct-state": { type: "string" },
    },
    handler: async () => (require("./commands/firewall") as typeof import("./commands/firewall")).firewallCommand,
  },
  policy: {
    summary: "which monitoring flows a tailnet policy file admits (9100/tcp, 161/udp, 162/udp)",
    usage: "edge-agent policy check FILE [...]",
    details: "edge-agent policy check FILE [--json] [--scraper-tag T] [--node-tag T] [--tests]",
    positionals: true,
    options: { json: { type: "boolean" }, "scraper-tag": { type: "string" }, "node-tag": { type: "string" }, tests: { type: "boolean" } },
    handler: async () => (require("./commands/policy") as typeof import("./commands/policy")).policyCommand,
  },
  trap: {
    summary: "send one test notification to notifications.target (an inform waits for the ack)",
    usage: "edge-agent trap --test [--config FILE]",
    options: { ...configOption, test: { type: "boolean" } },
    handler: async () => (require("./commands/trap") as typeof import("./commands/trap")).trapCommand,
  },
  receive: {
    summary: "scraper side: receive the fleet's notifications; serve metrics, file_sd targets, alerts",
    usage: "edge-agent receive [--config FILE]",
    options: { ...configOption },
    handler: async () => (require("./commands/receive") as typeof import("./commands/receive")).receiveCommand,
  },
  mib: {
    summary: "print EDGE-AGENT-MIB (SMIv2), re-rooted under OID with --base-oid",
    usage: "edge-agent mib [--base-oid OID]",
    options: { "base-oid": { type: "string" } },
    handler: async () => (require("./commands/mib") as typeof import("./commands/mib")).mibCommand,
  },
};

export function helpText(): string {
  const width = Math.max(...Object.values(commands).map((c) => c.usage.length));
  const rows = Object.values(commands).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`);
  return [
    "edge-agent — tells the scraper whether this host is set up for a direct, IPv6-first tailnet",
    "",
    "Usage:",
    ...rows,
    "  edge-agent --version | --help",
    "",
    "Exit codes: 0 ok; 1 the thing asked about is not ok; 2 bad usage or config; 3 undecidable.",
    "Config: /etc/edge-agent/config.yaml unless --config FILE; no file there means defaults.",
    "Each command's options, defaults, exit codes and examples: edge-agent COMMAND --help.",
    "",
  ].join("\n");
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(helpText());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    process.stdout.write(`edge-agent ${AGENT_VERSION}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`edge-agent: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(await renderCommandHelp(command.details ?? command.usage, COMMAND_HELP[name]));
    return 0;
  }
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: command.options, allowPositionals: command.positionals ?? false, strict: true }) as { values: Values; positionals: string[] });
  } catch (error) {
    process.stderr.write(`edge-agent ${name}: ${(error as Error).message}\nUsage: ${command.details ?? command.usage}\n`);
    return 2;
  }
  try {
    const handler = await command.handler();
    return await handler(values, positionals);
  } catch (error) {
    if (error instanceof ConfigError) {
      // One line per problem: a config with several mistakes names them all.
      for (const line of error.message.split("\n")) process.stderr.write(`edge-agent: bad config: ${line}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`edge-agent ${name}: ${error.message}\nUsage: ${command.details ?? command.usage}\n`);
      return 2;
    }
    throw error;
  }
}
