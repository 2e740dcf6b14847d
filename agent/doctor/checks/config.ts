// The `config` check: the config file parses and every key is valid; world-readable secrets and
// running on bare defaults are worth a word.
import { MAX_CONFIG_BYTES, redactUrl, type Config } from "../../config";
import type { ConfigProblemCode } from "../../config-error";
import type { Check } from "../check";
import type { ConfigLoad } from "../context";
import { configReference, INSTALLED_REFERENCE } from "../facts/config-reference";
import { fail, ok, warn, type Finding } from "../finding";

/** Secrets a config sets beyond the well-known default community. */
function secretsIn(config: Config): string[] {
  const found: string[] = [];
  if (config.notifications.community !== "public") found.push("notifications.community");
  if (config.probes.snmpd.community !== "public") found.push("probes.snmpd.community");
  if (config.notifications.user) found.push("notifications.user");
  if (config.probes.snmpd.user) found.push("probes.snmpd.user");
  if (redactUrl(config.probes.nodeExporter.url) !== config.probes.nodeExporter.url) found.push("probes.nodeExporter.url");
  if (config.receiver.communities.length) found.push("receiver.communities");
  if (config.receiver.users.length) found.push("receiver.users");
  return found;
}

/** The fix for a file that could not be read or parsed at all. */
function fileFix(code: ConfigProblemCode, path: string): string {
  if (code === "missing") return `create ${path}, or leave out --config to use /etc/edge-agent/config.yaml`;
  if (code === "unreadable") return `check ${path}'s permissions: ls -l ${path}`;
  if (code === "yaml") return `correct the YAML syntax in ${path} at the place named`;
  return `point --config at the YAML file itself: a regular file of at most ${MAX_CONFIG_BYTES / 1024} KiB (ls -lL ${path})`;
}

/** `reference`: where the keys are documented here (facts/config-reference.ts). */
export function judgeConfig(load: ConfigLoad, reference = INSTALLED_REFERENCE): Finding {
  if (load.error) {
    const e = load.error;
    if (e.code !== "invalid") return fail(e.oneLine, fileFix(e.code, load.path));
    const keys = [...new Set(e.problems.filter((p) => p.key !== "(file)").map((p) => p.key))].join(", ");
    return fail(e.oneLine, `edit ${keys} in ${e.file ?? load.path} (keys and defaults: ${reference})`);
  }
  const config = load.config!;
  if (config.source === null)
    return warn(`no config file at ${load.path}: running on the defaults (scraper "${config.scraper}", tags ${config.tailscale.expectedTags.join(", ") || "none"})`, `create ${load.path} (keys and defaults: ${reference}), or pass --config FILE`);
  const secrets = secretsIn(config);
  if (load.mode !== null && (load.mode & 0o004) !== 0 && secrets.length > 0)
    return warn(`${load.path} is valid, but any user can read it (mode ${(load.mode & 0o777).toString(8).padStart(4, "0")}) and it holds secrets (${secrets.join(", ")})`, `sudo chmod 0640 ${load.path}`);
  return ok(`${load.path} is valid (scraper "${config.scraper}")`);
}

export const configCheck: Check = {
  id: "config",
  group: "config",
  scope: "any",
  summary: "the config file parses and every key is valid",
  timeoutMs: () => 1000,
  run: async (ctx) => judgeConfig(ctx.load, configReference()),
};
