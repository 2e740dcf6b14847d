// `edge-agent status`: probe once, print NodeState (JSON for scripts, text for people).
import { loadConfig } from "../config";
import { collectNodeState } from "../probes/collect";
import { renderStatus } from "../status-render";

export async function statusCommand(values: { config?: unknown; json?: unknown }): Promise<number> {
  const config = loadConfig(values.config as string | undefined);
  const state = await collectNodeState(config);
  process.stdout.write(values.json ? `${JSON.stringify(state, null, 2)}\n` : renderStatus(state));
  return 0;
}
