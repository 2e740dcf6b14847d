// `edge-agent trap --test [--config FILE]`: probe the node, send the test notification to each
// notifications target and say, per target, whether it was acknowledged (informs) or sent
// (traps). Exit 1 when any target's inform got no answer.
import { UsageError } from "../cli";
import { loadConfig } from "../config";
import { createStderrLogger } from "../log";
import { collectNodeState } from "../probes/collect";
import { sendTestNotifications, type TestResult } from "../snmp/test-notification";
import { validateNotifications } from "../snmp/notification-config";

export async function trapCommand(values: { config?: unknown; test?: unknown }): Promise<number> {
  if (!values.test) throw new UsageError("only --test is supported: it sends one edgeAgentTest notification to each target");
  const config = loadConfig(values.config as string | undefined);
  validateNotifications(config);
  const logger = createStderrLogger(config.log.level === "info" ? "warn" : config.log.level);
  const state = await collectNodeState(config);
  const n = config.notifications;
  const kind = `${n.inform ? "inform" : "trap"} (SNMP${n.version === "3" ? "v3" : "v2c"})`;
  const results = await sendTestNotifications(config, logger, state);
  // With one target the line names the address it went to, as it always has; with several, the
  // configured target too, so each line says which one it is about.
  const where = (result: TestResult) => (results.length > 1 ? `${result.configured}${result.target ? ` (${result.target})` : ""}` : (result.target ?? result.configured));
  let failed = false;
  for (const result of results) {
    if (result.error) {
      failed = true;
      process.stderr.write(`edge-agent: test ${kind} to ${where(result)} failed: ${result.error}\n`);
    } else if (result.acknowledged) process.stdout.write(`test ${kind} to ${where(result)} acknowledged in ${result.rttMs} ms\n`);
    else process.stdout.write(`test ${kind} sent to ${where(result)} (traps are not acknowledged: check the receiver's log, or set notifications.inform: true)\n`);
  }
  if (failed && n.inform) process.stderr.write("No acknowledgement: is the receiver running (edge-agent receive or snmptrapd), does the tailnet ACL let tag:monitor reach tag:scraper:162, and do the community or v3 user match?\n");
  return failed ? 1 : 0;
}
