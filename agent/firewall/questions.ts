// The questions edge-agent asks of a host's firewall: does tailscaled's UDP port get through,
// in and out, over IPv6 and IPv4, and forwarded for a router's prefixes. Pure: the caller reads
// the ruleset, the port and the addresses.
import ipaddr from "ipaddr.js";
import { evaluate, type Decision } from "./evaluate";
import { makePacket, type PacketSpec } from "./packet";
import type { Ruleset } from "./ruleset";
import type { HostView } from "./host-view";

/** Tailscale's default port: what a peer most likely sends from and listens on. */
export const DEFAULT_PORT = 41641;
/** A stand-in internet peer: the checks ask about "anyone", not one address. */
export const PEER_IPV6 = "2001:4860:4860::8888";
export const PEER_IPV4 = "8.8.8.8";

export interface HostAddress {
  address: string;
  interface: string;
}

export interface FirewallQuestionsInput {
  port: number;
  ipv6: HostAddress | null;
  ipv4: HostAddress | null;
  forwardPrefixes: string[];
  /**
   * The interfaces a forwarded datagram from each prefix would use, from the routing table
   * (probes/routes.ts): in on the one that routes to the prefix, out on the one that routes to
   * the peer. Without them a forward chain that matches iifname/oifname answers unknown.
   */
  forwardInterfaces?: Record<string, { iif: string | null; oif: string | null }>;
  /** The host's addresses and routes, for route-type and reverse-path matches. */
  host?: HostView;
}

export interface CheckResult {
  id: string;
  verdict: "accept" | "drop" | "unknown";
  decidedBy: string;
  reason?: string;
  packet?: PacketSpec;
}

/** The packets of each question (a question without an address to ask about has none). */
export function forwardInnerAddress(prefix: string): string {
  const [net, len] = ipaddr.parseCIDR(prefix);
  const bytes = net.toByteArray();
  if (len < bytes.length * 8) bytes[bytes.length - 1] |= 1; // a host inside the prefix
  return ipaddr.fromByteArray(bytes).toString();
}

/** One question: a forward one names the prefix it asks about. */
interface Question {
  id: string;
  packet: PacketSpec | null;
  why?: string;
  prefix?: string;
}

export function questionPackets(input: FirewallQuestionsInput): Question[] {
  const out: Question[] = [];
  for (const direction of ["in", "out"] as const) {
    for (const family of ["ipv6", "ipv4"] as const) {
      const host = family === "ipv6" ? input.ipv6 : input.ipv4;
      const peer = family === "ipv6" ? PEER_IPV6 : PEER_IPV4;
      const why = `the host has no global ${family === "ipv6" ? "IPv6" : "IPv4"} address`;
      const packet: PacketSpec | null = !host
        ? null
        : direction === "in"
          ? { direction, family, proto: "udp", saddr: peer, daddr: host.address, sport: DEFAULT_PORT, dport: input.port, iif: host.interface, ctState: "new" }
          : { direction, family, proto: "udp", saddr: host.address, daddr: peer, sport: input.port, dport: DEFAULT_PORT, oif: host.interface, ctState: "new" };
      out.push({ id: `${direction === "in" ? "inbound" : "outbound"}-${family}`, packet, why });
    }
  }
  for (const prefix of input.forwardPrefixes) {
    const family = ipaddr.parseCIDR(prefix)[0].kind() === "ipv6" ? "ipv6" : "ipv4";
    const inner = forwardInnerAddress(prefix);
    const via = input.forwardInterfaces?.[prefix];
    out.push({
      id: `forward-${family}`,
      prefix,
      packet: {
        direction: "forward", family, proto: "udp", saddr: inner, daddr: family === "ipv6" ? PEER_IPV6 : PEER_IPV4, sport: input.port, dport: DEFAULT_PORT,
        ...(via?.iif ? { iif: via.iif } : {}), ...(via?.oif ? { oif: via.oif } : {}), ctState: "new",
      },
    });
  }
  return out;
}

/**
 * Whether a check asked the firewall anything: one without a packet (the host has no global
 * IPv6 address, say) had nothing to ask, which is not an unknown verdict.
 */
export function wasAsked(check: { verdict: string; packet?: unknown }): boolean {
  return !(check.verdict === "unknown" && check.packet === undefined);
}

/**
 * The sizes of the UDP payloads tailscaled sends: the smallest is a WireGuard keepalive (a
 * 16-byte data header and a 16-byte tag), the largest a WireGuard data message carrying a full
 * 1280-byte packet of its default tunnel MTU (1280 + 32). Disco messages lie between.
 */
export const TAILSCALED_DATAGRAM_BYTES = { smallest: 32, largest: 1312 } as const;

/**
 * A question's verdict for the datagrams tailscaled really sends: a ruleset that matches on
 * lengths is asked about the smallest and the largest, and is unknown only if they differ.
 */
function decideForTailscaledSizes(ruleset: Ruleset, spec: PacketSpec, host: HostView | undefined): Decision {
  const packet = makePacket(spec as unknown as Record<string, unknown>);
  const small = evaluate(ruleset, { ...packet, length: TAILSCALED_DATAGRAM_BYTES.smallest }, host);
  if (!small.readLength) return small;
  const large = evaluate(ruleset, { ...packet, length: TAILSCALED_DATAGRAM_BYTES.largest }, host);
  if (large.verdict === small.verdict) return small;
  const reason = `the verdict depends on the datagram's size: ${TAILSCALED_DATAGRAM_BYTES.smallest}-byte payloads ${small.verdict} (${small.decidedBy}), ${TAILSCALED_DATAGRAM_BYTES.largest}-byte ones ${large.verdict} (${large.decidedBy})`;
  return { verdict: "unknown", trace: small.trace, decidedBy: reason, reason };
}

const SEVERITY: Record<CheckResult["verdict"], number> = { accept: 0, unknown: 1, drop: 2 };

/**
 * Pure: every question answered from one ruleset. Each family has one forward check however many
 * prefixes it has (a metric label, an AgentX object): its verdict is the worst of its prefixes'
 * (drop over unknown over accept), and the deciding rule is named with the prefix it was for.
 */
export function answerQuestions(ruleset: Ruleset, input: FirewallQuestionsInput): CheckResult[] {
  const results: CheckResult[] = [];
  const questions = questionPackets(input);
  const prefixesPerCheck = new Map<string, number>();
  for (const q of questions) if (q.prefix) prefixesPerCheck.set(q.id, (prefixesPerCheck.get(q.id) ?? 0) + 1);
  for (const { id, packet, why, prefix } of questions) {
    let r: CheckResult;
    if (!packet) {
      r = { id, verdict: "unknown", decidedBy: why ?? "", reason: why };
    } else {
      const d = decideForTailscaledSizes(ruleset, packet, input.host);
      r = { id, verdict: d.verdict, decidedBy: d.decidedBy, packet };
      if (d.reason) r.reason = d.reason;
    }
    if (!prefix) {
      results.push(r);
      continue;
    }
    if ((prefixesPerCheck.get(id) ?? 0) > 1) {
      r.decidedBy = `${prefix}: ${r.decidedBy}`;
      if (r.reason) r.reason = `${prefix}: ${r.reason}`;
    }
    const earlier = results.findIndex((c) => c.id === id);
    if (earlier < 0) results.push(r);
    else if (SEVERITY[r.verdict] > SEVERITY[results[earlier].verdict]) results[earlier] = r;
  }
  return results;
}
