// Renders NodeState for a person: the `status` command's text form, each part's lines as its
// definition words them (agent/state/<part>.ts). Pure.
import type { NodeState } from "./state/node-state";
import { PARTS } from "./state/parts";

export function renderStatus(state: NodeState): string {
  return PARTS.flatMap((part) => part.status(state)).join("\n") + "\n";
}
