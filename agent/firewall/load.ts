// Picks the parser for a ruleset text: nft's JSON or iptables-save, told apart by their first
// non-blank character when the format is not given.
import { parseIptablesSave } from "./iptables-save";
import { parseNftJson } from "./nft-json";
import { RulesetError, type Ruleset } from "./ruleset";

export type RulesetFormat = "nft-json" | "iptables-save";

/** Far above any real ruleset (a 10,000-rule JSON is a few MB); bounds memory on garbage input. */
export const MAX_RULESET_BYTES = 256 * 1024 * 1024;

export function detectFormat(text: string): RulesetFormat {
  const first = /\S/.exec(text)?.[0];
  if (first === "{" || first === "[") return "nft-json";
  if (first === "#" || first === "*") return "iptables-save";
  throw new RulesetError("neither nft JSON nor iptables-save text (give --format nft-json|iptables-save)");
}

export function parseRuleset(text: string, format?: RulesetFormat, source?: string): Ruleset {
  if (text.length > MAX_RULESET_BYTES) throw new RulesetError(`${text.length} bytes is more than the ${MAX_RULESET_BYTES} this reader accepts`);
  const fmt = format ?? detectFormat(text);
  return fmt === "nft-json" ? parseNftJson(text) : parseIptablesSave(text, source ?? "iptables");
}
