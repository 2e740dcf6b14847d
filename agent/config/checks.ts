// What the config's string values must look like: prefixes, tags, host:port, listen addresses,
// URLs, engine IDs, v3 keys. Each returns the value (normalised where that helps) or throws
// Invalid with what was expected; the leaf adds the value as it may be shown.
import ipaddr from "ipaddr.js";
import { parseListenAddress } from "../receiver/listen-address";
import { isValidOid } from "../snmp/oid-tree";
import type { Check } from "./leaves";
import { Invalid } from "./nodes";

/** A prefix made canonical (host bits dropped, text normalised), so comparisons and output agree. */
export function prefix(value: string): string {
  try {
    const [addr, len] = ipaddr.parseCIDR(value);
    const network = addr.kind() === "ipv6" ? ipaddr.IPv6.networkAddressFromCIDR(value) : ipaddr.IPv4.networkAddressFromCIDR(value);
    return `${network.toString()}/${len}`;
  } catch {
    throw new Invalid("expected a prefix (address/length) like 2001:db8:100::/56 or 192.0.2.0/24");
  }
}

export function ipv6Prefix(value: string): string {
  const canonical = prefix(value);
  if (!canonical.includes(":")) throw new Invalid("expected an IPv6 prefix like 2001:db8:100::/56 (this one is IPv4)");
  return canonical;
}

/** A check that one regular expression decides; the JSON Schema carries it as a pattern. */
function matching(pattern: RegExp, expected: string): Check {
  const check = (value: string): string => {
    if (!pattern.test(value)) throw new Invalid(expected);
    return value;
  };
  return Object.assign(check, { pattern });
}

export const tag = matching(/^tag:[A-Za-z0-9][A-Za-z0-9-]*$/, "expected a tailnet tag like tag:monitor");

export function nonEmpty(what: string) {
  return (value: string): string => {
    if (value === "") throw new Invalid(`expected ${what}`);
    return value;
  };
}

/** The port at the end of HOST:PORT, when it is one from 1 to 65535. */
function portOk(value: string): boolean {
  const port = Number(/:(\d{1,5})$/.exec(value)?.[1] ?? "0");
  return port >= 1 && port <= 65535;
}

export function hostPort(value: string): string {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/.test(value) || !portOk(value))
    throw new Invalid("expected host:port or [ipv6]:port with a port from 1 to 65535");
  return value;
}

/** host:port, or "" for the default the loader derives. */
export const hostPortOrEmpty = (value: string): string => (value === "" ? value : hostPort(value));

/** A receiver.listen entry exactly as `receive` will bind it, so a bad one fails at load. */
export function listenAddress(value: string): string {
  try {
    if (value.length <= 100) return parseListenAddress(value).text;
  } catch {
    /* refused below */
  }
  throw new Invalid("expected udp, udp4 or udp6, an IP address (not a name) and a port from 1 to 65535, like udp6:[::]:162 or udp:0.0.0.0:162");
}

export function agentxMaster(value: string): string {
  if ((/^tcp:[^:]+:\d{1,5}$/.test(value) || /^tcp:\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(value)) && portOk(value)) return value;
  throw new Invalid("expected tcp:HOST:PORT (net-snmp's subagent speaks TCP only)");
}

export function httpUrl(value: string): string {
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    throw new Invalid("expected a URL like http://127.0.0.1:9100/metrics");
  }
  if (protocol !== "http:" && protocol !== "https:") throw new Invalid("expected an http(s) URL");
  return value;
}

export const httpUrlOrEmpty = (value: string): string => (value === "" ? value : httpUrl(value));

export const engineId = matching(/^(0[xX])?([0-9a-fA-F]{2}){5,32}$/, "expected an engine ID of 5 to 32 bytes in hex (like 8000000001020304)");

/** RFC 3414: passphrases must be at least 8 characters; Net-SNMP refuses shorter ones too. */
export function v3Key(value: string): string {
  if (value.length < 8) throw new Invalid("expected at least 8 characters (RFC 3414 minimum)");
  return value;
}

export function absolutePath(value: string): string {
  if (!value.startsWith("/")) throw new Invalid("expected an absolute path to a PEM file");
  return value;
}

export function oid(value: string): string {
  if (!isValidOid(value)) throw new Invalid("expected an OID like 1.3.6.1.4.1.<your PEN>.1");
  return value;
}
