// `edge-agent trap --test`: one edgeAgentTest notification, straight to each target (no outbox,
// sequence 0 so a receiver never mistakes it for a step of the real sequence).
import type { Config } from "../config";
import type { Logger } from "../log";
import type { NodeState } from "../state/node-state";
import { oidTree, type OidTree } from "./oid-tree";
import type { SendFailure } from "./net-snmp-internals";
import { describeTarget, SendError, Sender } from "./sender";
import { notificationObjects, stateObjects } from "./state-objects";
import { parseTarget, resolveOrExplain, TargetUnresolvable } from "./target";
import { toVarbinds } from "./varbinds";
import { isoTime } from "../iso-time";

export interface TestResult {
  /** The target as configured, e.g. scraper-a:162. */
  configured: string;
  acknowledged: boolean;
  rttMs: number | null;
  /** Where it went, e.g. udp6:[fd7a:115c:a1e0::1]:162, once the target resolved. */
  target?: string;
  error?: string;
  /** What kept it from being acknowledged: the target did not resolve, or the send got no answer. */
  failure?: "unresolvable" | "send-failed";
  /** For a failed send: what the receiver did (a USM report, no answer, no answer after discovery). */
  refusal?: SendFailure;
}

/**
 * One test notification to every target, all at once; the results in the order configured.
 * `logger` null: doctor, whose finding names each target (and which then need not load pino).
 */
export function sendTestNotifications(config: Config, logger: Logger | null, state: NodeState, options: { tree?: OidTree } = {}): Promise<TestResult[]> {
  return Promise.all(config.notifications.targets.map((configured) => sendTestNotification(config, configured, logger, state, options)));
}

export async function sendTestNotification(config: Config, configured: string, logger: Logger | null, state: NodeState, options: { tree?: OidTree } = {}): Promise<TestResult> {
  const tree = options.tree ?? oidTree(config.mib.baseOid);
  const at = isoTime();
  const summary = `test notification from ${state.host.state === "ok" ? state.host.hostname : "edge-agent"} (edge-agent trap --test)`;
  const objects = notificationObjects(stateObjects(state), { sequence: 0, at, summary });
  const sender = new Sender(config.notifications);
  let target: string | undefined;
  try {
    const spec = parseTarget(configured);
    const resolved = await resolveOrExplain(spec, "check notifications.targets");
    target = describeTarget(resolved);
    logger?.debug({ target }, "sending the test notification");
    const result = await sender.send(resolved, tree.notificationOid("test"), toVarbinds(tree, objects));
    return { configured, ...result, target };
  } catch (error) {
    return {
      configured,
      acknowledged: false,
      rttMs: null,
      target,
      error: (error as Error).message,
      failure: error instanceof TargetUnresolvable ? "unresolvable" : "send-failed",
      ...(error instanceof SendError ? { refusal: error.failure } : {}),
    };
  } finally {
    sender.close();
  }
}
