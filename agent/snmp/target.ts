// notifications.target ("name:port", "address:port", "[v6]:port") -> the address to send to.
// A tailnet name is looked up on every attempt (MagicDNS answers change when a node is
// re-created), in the resolver's order, so an address literal is the way to pin a family.
import { isIP } from "node:net";

export interface TargetSpec {
  host: string;
  port: number;
}

export interface ResolvedTarget {
  address: string;
  family: 4 | 6;
  port: number;
}

/** Splits host:port (brackets around an IPv6 literal). Config validation has checked the shape. */
export function parseTarget(target: string): TargetSpec {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(target);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) throw new Error(`"${target}" is not host:port or [ipv6]:port`);
  return { host: match[1] ?? match[2], port };
}

/** The target's name did not resolve: told apart from a send that failed by its class, not its words. */
export class TargetUnresolvable extends Error {}

/** resolveTarget, its failure a TargetUnresolvable naming the host, its code and where to look. */
export function resolveOrExplain(spec: TargetSpec, check: string): Promise<ResolvedTarget> {
  return resolveTarget(spec).catch((error: NodeJS.ErrnoException) => {
    throw new TargetUnresolvable(`cannot resolve ${spec.host}: ${error.code ?? error.message} (${check})`);
  });
}

export async function resolveTarget(spec: TargetSpec): Promise<ResolvedTarget> {
  const literal = isIP(spec.host);
  if (literal) return { address: spec.host, family: literal as 4 | 6, port: spec.port };
  // Loaded on first use: a target given as an address never needs the resolver's modules.
  const { lookup } = require("node:dns/promises") as typeof import("node:dns/promises");
  const { address, family } = await lookup(spec.host, { verbatim: true });
  return { address, family: family === 6 ? 6 : 4, port: spec.port };
}
