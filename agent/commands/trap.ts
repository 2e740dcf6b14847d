// `edge-agent trap --test [--config FILE]`: probe the node, send the test notification and say
// whether it was acknowledged (informs) or sent (traps). Exit 1 when an inform got no answer.
import { UsageError } from "../cli";
import { loadConfig } from "../config";
import { createStderrLogger } from "../log";
import { collectNodeState } from "../probes/collect";
import type { SendFailure } from "../snmp/net-snmp-internals";
import { sendTestNotification } from "../snmp/test-notification";
import { validateNotifications } from "../snmp/notification-config";

const NO_ANSWER = "No acknowledgement: is the receiver running (edge-agent receive or snmptrapd), does the tailnet ACL let tag:monitor reach tag:scraper:162, and do the community or v3 user match?";

/** What a failed inform says about the receiver, and what to check. */
export function failureHint(failure: SendFailure | undefined, user: string): string {
  if (!failure) return NO_ANSWER;
  if (failure.code === "no-answer-after-discovery")
    return `The receiver answered v3 engine discovery, so it runs and is reachable, but did not acknowledge the inform: notifications.user's authKey, authProtocol, privKey or privProtocol do not match the receiver's user ${user} (edge-agent receive drops a wrong digest without a report; its log says wrong_digest or decrypt_failed).`;
  if (failure.code !== "usm-report") return NO_ANSWER;
  switch (failure.usm) {
    case "wrong_digest":
      return `The receiver answered with a wrong-digest report: notifications.user's authKey or authProtocol do not match the receiver's user ${user}.`;
    case "unknown_user":
      return `The receiver answered with an unknown-user report: it has no v3 user ${user} (add it to receiver.users, or createUser in snmptrapd.conf).`;
    case "unauthenticated":
      return `The receiver answered with an unsupported-security-level report: its user ${user} needs authentication or privacy that notifications.user does not give (set its privKey).`;
    case "decrypt_failed":
      return `The receiver answered with a decryption-error report: notifications.user's privKey or privProtocol do not match the receiver's user ${user}.`;
    default:
      return `The receiver answered with a ${failure.usm.replace(/_/g, " ")} report.`;
  }
}

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
    if (n.inform) process.stderr.write(`${failureHint(result.refusal, n.user?.name ?? "")}\n`);
    return 1;
  }
  if (result.acknowledged) {
    process.stdout.write(`test ${kind} to ${where} acknowledged in ${result.rttMs} ms\n`);
    return 0;
  }
  process.stdout.write(`test ${kind} sent to ${where} (traps are not acknowledged: check the receiver's log, or set notifications.inform: true)\n`);
  return 0;
}
