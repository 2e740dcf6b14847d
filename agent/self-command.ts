// How this program is typed at the shell that started it, for messages that name a command to
// run: `edge-agent` as the packages install it, `npx edge-agent` from a checkout, where the
// launcher bin/edge-agent.js is the main module and no edge-agent is on PATH.
import { basename, dirname } from "node:path";

/** Pure: the command for a main module's file name. */
export function selfCommand(mainFile: string | undefined): string {
  return mainFile && basename(mainFile) === "edge-agent.js" && basename(dirname(mainFile)) === "bin" ? "npx edge-agent" : "edge-agent";
}

export const SELF = selfCommand(require.main?.filename);
