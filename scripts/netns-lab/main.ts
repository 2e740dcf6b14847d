// `scripts/lab` command line (the executable is scripts/lab; this directory holds its code): up [--pair] | down | status | stop NODE SERVICE | start NODE SERVICE |
// exec NODE CMD [ARGS...]. Argument parsing and dispatch only; the work is in lab.ts.
import { execInteractive, labDown, labStatus, labUp, startService, stopService } from "./lab";

const USAGE = `Usage: scripts/lab COMMAND
  up [--pair]             build the namespaces and start every daemon (LAB_DIR, LAB_PREFIX);
                          --pair: two scrapers as in the README's High availability section
  down                    stop and remove everything the lab made (safe to run twice)
  status                  what runs where: namespaces, addresses, processes, ports
  stop NODE SERVICE       stop one daemon (e.g. stop svc1 node-exporter)
  start NODE SERVICE      start it again
  exec NODE CMD [ARGS]    run a command in a node's namespace (e.g. exec svc1 nft list ruleset)
State and logs live in $LAB_DIR (default /run/edge-agent-lab); namespaces are $LAB_PREFIX-<node>
(default eal-). Needs root.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const usage = (message: string) => {
    process.stderr.write(`scripts/lab: ${message}\n${USAGE}`);
    return 2;
  };
  if (!command || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (process.getuid?.() !== 0 && command !== "status") return usage("needs root (network namespaces): run it with sudo");
  switch (command) {
    case "up":
      if (rest.length > 1 || (rest.length === 1 && rest[0] !== "--pair")) return usage(`up takes only --pair, not ${rest.join(" ")}`);
      await labUp({ pair: rest[0] === "--pair" });
      process.stdout.write(labStatus());
      return 0;
    case "down":
      await labDown();
      return 0;
    case "status":
      process.stdout.write(labStatus());
      return 0;
    case "stop":
    case "start":
      if (rest.length !== 2) return usage(`${command} takes NODE SERVICE`);
      if (command === "stop") await stopService(rest[0], rest[1]);
      else await startService(rest[0], rest[1]);
      return 0;
    case "exec":
      if (rest.length < 2) return usage("exec takes NODE CMD [ARGS...]");
      return execInteractive(rest[0], rest[1], rest.slice(2));
    default:
      return usage(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`scripts/lab: ${error.message}\n`);
    process.exit(1);
  },
);
