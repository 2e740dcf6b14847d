// `edge-agent trap --test [--config FILE]`: probe the node, send the test notification and say
// whether it was acknowledged (informs) or sent (traps). Exit 1 when an inform got no answer.
import { UsageError } from "../cli";
import { loadConfig } from "../config";
import { createStderrLogger } from "../log";
import { collectNodeState } from "../probes/collect";
import { sendTestNotification } from "../snmp/test-notification";
import { validateNotifications } from "../snmp/notification-config";

export async function trapCommand(values: { config?: unknown; test?: unknown }): Promise<number> {
  if (!values.test) throw new UsageError("only --test is supported: it sends one edgeAgentTest notification");
  const config = loadConfig(values.config as string | undefined);
  validateNotifications(config);
  const logger = createStderrLogger(config.log.level === "info" ? "warn" : config.log.level);
  const state = await collectNodeState(config);
  const n = config.notifications;
  const kind = `${n.inform ? "inform" : "trap"} (SNMP${n.version === "3" ? "v3" : "v2c"})`;
  const result = await sendTestNotification(config, logger, state);
  const where = result.target ?? n.target;
  if (result.error) {
    process.stderr.write(`edge-agent: test ${kind} to ${where} failed: ${result.error}\n`);
    if (n.inform) process.stderr.write("No acknowledgement: is the receiver running (edge-agent receive or snmptrapd), does the tailnet ACL let tag:monitor reach tag:scraper:162, and do the community or v3 user match?\n");
    return 1;
  }
  if (result.acknowledged) {
    process.stdout.write(`test ${kind} to ${where} acknowledged in ${result.rttMs} ms\n`);
    return 0;
  }
  process.stdout.write(`test ${kind} sent to ${where} (traps are not acknowledged: check the receiver's log, or set notifications.inform: true)\n`);
  return 0;
}
