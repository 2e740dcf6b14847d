// What `edge-agent COMMAND --help` prints: what the command does, each option with its default,
// the exit codes and an example. The option list is checked against each command's parser by a
// test, so a new flag without a line here fails it. doctor's check ids come from the registry.

export interface CommandHelp {
  /** One paragraph: what the command does. */
  about: string;
  /** [flag as typed, what it does and its default]; every option the parser accepts. */
  options: [string, string][];
  exitCodes: string;
  examples: string[];
  /** A section computed when asked (doctor's check ids), loaded only for this help. */
  more?: () => Promise<string>;
}

const CONFIG: [string, string] = ["--config FILE", "the config to read (default /etc/edge-agent/config.yaml; none there means the defaults; an explicit FILE must exist)"];
const JSON_OUT: [string, string] = ["--json", "print JSON for scripts instead of text (default: text)"];
const BAD = "2 bad usage or a bad config (each problem named with file, line and key)";

export const COMMAND_HELP: Record<string, CommandHelp> = {
  run: {
    about: "The daemon (one per host, under systemd as edge-agent.service): probes the host, sends SNMP notifications of changes and a heartbeat to notifications.target, writes node-exporter textfile metrics and serves its objects to snmpd over AgentX. SIGHUP re-reads the config (a bad one is logged and the running one kept); SIGTERM or SIGINT flush the outbox and stop.",
    options: [CONFIG],
    exitCodes: `0 stopped by SIGTERM or SIGINT; ${BAD} at start. Later problems (tailscaled, snmpd or node-exporter missing, an unwritable textfile directory) are logged and retried, never fatal.`,
    examples: ["sudo systemctl enable --now edge-agent", "edge-agent run --config ./config.yaml"],
  },
  status: {
    about: "Probes this host once (addresses, tailnet, services, firewall) and prints the NodeState the daemon would report: text for people, or the whole document as JSON.",
    options: [CONFIG, JSON_OUT],
    exitCodes: `0 printed (a source that cannot be read is shown as unavailable, not an error); ${BAD}.`,
    examples: ["edge-agent status", "edge-agent status --json | jq .tailnet.scraper"],
  },
  doctor: {
    about: "Runs every check once and says what is wrong here and how to fix it: one line per check, a fix under anything not ok, and, when several programs are missing, one command that installs them all. Read-only apart from one test notification to the scraper; needs no daemon and no config. Checks of the scraper (receiver-*) run only where `edge-agent receive` runs or receiver.communities/users are set, unless named with --check.",
    options: [
      CONFIG,
      ["--json", "print {checks: [{id, group, status, finding, fix, missing?, durationMs}], summary, install} instead of text (default: text; marks and colour on a terminal, ASCII when piped or with NO_COLOR)"],
      ["--check ID", "run only this check; repeat for several (default: all of them)"],
    ],
    exitCodes: "0 no check failed (warnings and skips allowed); 1 a check failed; 2 bad usage (an unknown check id) or an invalid config (then only the config check runs).",
    examples: ["edge-agent doctor", "sudo edge-agent doctor --check firewall-port --check snmpd", "edge-agent doctor --json | jq '.checks[] | select(.status == \"fail\")'"],
    more: async () => {
      const { CHECKS } = await import("./doctor/registry");
      const width = Math.max(...CHECKS.map((c) => c.id.length));
      return ["Checks (--check ID):", ...CHECKS.map((c) => `  ${c.id.padEnd(width)}  ${c.summary}${c.scope === "scraper" ? " (scraper)" : ""}`)].join("\n");
    },
  },
  firewall: {
    about: "Does the firewall let tailscaled's UDP port through? `check` asks this host's live ruleset (nft -j list ruleset, and iptables-legacy-save; root needed to read them) about tailscaled's real port, in and out over IPv6 and IPv4. `trace` runs one packet, or a file of them, through a saved ruleset and names the rule that decided. Nothing is sent: the ruleset is evaluated as the kernel would.",
    options: [
      ["check|trace", "the sub-command (required)"],
      CONFIG,
      ["--json", "print the verdicts (check: the firewall part of NodeState; trace: verdict, trace, decidedBy) as JSON (default: text)"],
      ["--ruleset FILE", "trace: the saved ruleset (required), from `nft -j list ruleset > FILE` or `iptables-save > FILE`"],
      ["--format FMT", "trace: nft-json or iptables-save (default: told from the file's content)"],
      ["--packets FILE", "trace: JSON lines, one packet each with the keys of the flags below (ctState for --ct-state); prints one JSON result per line"],
      ["--direction DIR", "trace: in, out or forward"],
      ["--family FAM", "trace: ipv6 or ipv4"],
      ["--proto PROTO", "trace: udp or tcp"],
      ["--saddr A", "trace: source address"],
      ["--daddr A", "trace: destination address"],
      ["--sport N", "trace: source port"],
      ["--dport N", "trace: destination port"],
      ["--iif NAME", "trace: the interface the packet comes in on"],
      ["--oif NAME", "trace: the interface it leaves by"],
      ["--ct-state STATE", "trace: new, established, related or untracked (default: new)"],
    ],
    exitCodes: "0 accept; 1 drop; 3 unknown (a rule that cannot be decided, or check could not read the ruleset); 2 bad usage, an unreadable ruleset or a bad config. With --packets, the worst line's code.",
    examples: [
      "sudo edge-agent firewall check",
      "sudo nft -j list ruleset > rules.json",
      "edge-agent firewall trace --ruleset rules.json --direction in --family ipv6 --proto udp --saddr 2001:db8::1 --daddr 2001:db8::2 --sport 41641 --dport 41641 --iif eth0",
    ],
  },
  policy: {
    about: "Which monitoring flows a tailnet policy file (HuJSON, as the admin console edits it) admits: the scraper to each node's node-exporter (9100/tcp) and snmpd (161/udp), each node to the receiver (162/udp), each with the entry that decides it. Read from the file alone: nothing is asked of the control plane.",
    options: [
      ["check FILE", "the sub-command and the policy file (required)"],
      ["--json", "print {file, scraperTag, nodeTag, flows, warnings, tests?} instead of text (default: text)"],
      ["--scraper-tag T", "the scraper's tag (default tag:scraper)"],
      ["--node-tag T", "the nodes' tag (default tag:monitor)"],
      ["--tests", "print the policy tests that make the control plane refuse an edit breaking monitoring, to paste into the file's \"tests\""],
    ],
    exitCodes: "0 every flow admitted; 1 one is dropped; 3 one depends on what a file cannot say (addresses, postures); 2 bad usage or a file that is not a policy (naming line and column).",
    examples: ["edge-agent policy check policy.hujson", "edge-agent policy check policy.hujson --tests --node-tag tag:edge"],
  },
  trap: {
    about: "Probes once and sends one edgeAgentTest notification to notifications.target with the configured SNMP version, community or v3 user, and mode. An inform waits for the receiver's acknowledgement and prints the round trip; a trap has none and is reported as sent.",
    options: [["--test", "send the test notification (required: the only thing trap does)"], CONFIG],
    exitCodes: `0 acknowledged (inform) or sent (trap); 1 no acknowledgement, with what to check; ${BAD}.`,
    examples: ["edge-agent trap --test", "edge-agent trap --test --config /etc/edge-agent/config.yaml"],
  },
  receive: {
    about: "Scraper side: receives the fleet's notifications on receiver.listen (UDP 162 by default), keeps each node's state, serves fleet metrics for Prometheus, writes the file_sd target list (receiver.fileSd) and posts alerts to Alertmanager when configured. Runs in the foreground (edge-agent-receiver.service runs it under systemd); SIGHUP re-reads the config keeping the fleet; SIGTERM or SIGINT save the fleet and stop.",
    options: [CONFIG],
    exitCodes: `0 stopped by SIGTERM or SIGINT; 1 a listener cannot bind (e.g. snmptrapd holds 162); ${BAD}.`,
    examples: ["sudo systemctl enable --now edge-agent-receiver", "edge-agent receive --config ./scraper.yaml"],
  },
  mib: {
    about: "Prints EDGE-AGENT-MIB (SMIv2) for the agent's objects and notifications; the packages ship it as /usr/share/snmp/mibs/EDGE-AGENT-MIB.txt.",
    options: [["--base-oid OID", "re-root the tree, e.g. under your enterprise number 1.3.6.1.4.1.PEN.1 (default 1.3.6.1.3.9163, an experimental arc; set mib.baseOid to the same on nodes and the receiver)"]],
    exitCodes: "0 printed; 2 an OID that is not one, is a standard node or lies outside iso.",
    examples: ["edge-agent mib > EDGE-AGENT-MIB.txt", "edge-agent mib --base-oid 1.3.6.1.4.1.99999.1"],
  },
};

const COLUMNS = 100;

/** Words filled to COLUMNS after `first`, continuation lines indented by `hang`. */
function wrap(text: string, hang: number, first = ""): string {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(" ")) {
    if (!empty && line.length + 1 + word.length > COLUMNS) {
      lines.push(line);
      line = " ".repeat(hang) + word;
    } else line = empty ? line + word : `${line} ${word}`;
    empty = false;
  }
  return [...lines, line].join("\n");
}

export async function renderCommandHelp(usage: string, help: CommandHelp): Promise<string> {
  const options: [string, string][] = [...help.options, ["--help", "print this help"]];
  const width = Math.max(...options.map(([flag]) => flag.length));
  const sections = [
    `Usage: ${usage}`,
    wrap(help.about, 0),
    ["Options:", ...options.map(([flag, text]) => wrap(text, width + 4, `  ${flag.padEnd(width)}  `))].join("\n"),
    ...(help.more ? [await help.more()] : []),
    wrap(`Exit codes: ${help.exitCodes}`, 2),
    ["Examples:", ...help.examples.map((e) => `  ${e}`)].join("\n"),
  ];
  return `${sections.join("\n\n")}\n`;
}
