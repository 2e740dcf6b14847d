// `edge-agent trap --test`: one edgeAgentTest notification, straight to the target (no outbox,
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

export async function sendTestNotification(config: Config, logger: Logger, state: NodeState, options: { tree?: OidTree } = {}): Promise<TestResult> {
  const tree = options.tree ?? oidTree(config.mib.baseOid);
  const at = isoTime();
  const summary = `test notification from ${state.host.state === "ok" ? state.host.hostname : "edge-agent"} (edge-agent trap --test)`;
  const objects = notificationObjects(stateObjects(state), { sequence: 0, at, summary });
  const sender = new Sender(config.notifications);
  let target: string | undefined;
  try {
    const spec = parseTarget(config.notifications.target);
    const resolved = await resolveOrExplain(spec, "check notifications.target");
    target = describeTarget(resolved);
    logger.debug({ target }, "sending the test notification");
    const result = await sender.send(resolved, tree.notificationOid("test"), toVarbinds(tree, objects));
    return { ...result, target };
  } catch (error) {
    return {
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
