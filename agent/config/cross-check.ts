// The rules that tie several keys together (a v3 version needs a user, TLS settings need an
// https URL, two listeners cannot share a socket). Run once every key is valid on its own.
import { parseListenAddress } from "../receiver/listen-address";
import type { Found } from "./convert";
import type { ConfigFields } from "./schema";
import { redactUrl } from "./redact";

export function crossCheck(config: ConfigFields): Found[] {
  const found: Found[] = [];
  const at = (path: string, problem: string) => found.push({ path: path.split("."), problem });
  const n = config.notifications;
  if (n.version === "3" && !n.user) at("notifications.user", "notifications.version is 3, so a v3 user {name, authProtocol, authKey, privProtocol, privKey} is required");
  if (n.version === "2c" && !n.community) at("notifications.community", "notifications.version is 2c, so a community is required");
  if (n.version === "3" && !n.inform && !n.engineId)
    at("notifications.engineId", "v3 traps need a fixed engine ID that the receiver knows (snmptrapd drops v3 traps from unknown engines)");
  const ne = config.probes.nodeExporter;
  if (new URL(ne.url).protocol !== "https:") {
    const set = (["caFile", "serverName", "insecureSkipVerify"] as const).find((k) => ne.tls[k]);
    if (set) at(`probes.nodeExporter.tls.${set}`, `applies to https only, and probes.nodeExporter.url is ${redactUrl(ne.url)}`);
  }
  const s = config.probes.snmpd;
  if (s.version === "3" && !s.user) at("probes.snmpd.user", "probes.snmpd.version is 3, so a v3 user is required");
  for (const [key, user] of [["notifications.user", n.user], ["probes.snmpd.user", s.user]] as const)
    if (user && user.privProtocol && !user.privKey) at(`${key}.privKey`, `privProtocol is ${user.privProtocol}, so a privKey of at least 8 characters is required`);
  config.receiver.users.forEach((user, i) => {
    if (user.privProtocol && !user.privKey) found.push({ path: ["receiver", "users", i, "privKey"], problem: `privProtocol is ${user.privProtocol}, so a privKey is required` });
  });
  found.push(...listenConflicts(config.receiver.listen));
  return found;
}

const WILDCARDS = new Set(["::", "0.0.0.0"]);

/**
 * Entries `receive` could not bind together: the same family and port, and the same address or
 * a wildcard beside a specific one (Linux refuses both without SO_REUSEADDR). An IPv6 wildcard
 * beside IPv4 on its port is fine: the receiver makes it IPv6-only.
 */
function listenConflicts(listen: readonly string[]): Found[] {
  const parsed = listen.map(parseListenAddress);
  const found: Found[] = [];
  parsed.forEach((a, i) => {
    const j = parsed.findIndex((b, k) => k < i && b.transport === a.transport && b.port === a.port && (b.address === a.address || WILDCARDS.has(a.address) || WILDCARDS.has(b.address)));
    if (j >= 0) found.push({ path: ["receiver", "listen", i], problem: `binds the same ${a.transport} port ${a.port} as receiver.listen[${j}] (${listen[j]}), so \`receive\` could not open both` });
  });
  return found;
}
