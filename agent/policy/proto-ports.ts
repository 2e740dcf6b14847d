// The protocol and port syntax of a tailnet policy: an `acls` entry's `proto` and the `:ports`
// end of its `dst`, and a grant's `ip` items ("*", "9100", "tcp:*", "udp:161", "tcp:9000-9100").
// Names and forms follow tailscale's tailcfg.ProtoPortRange and types/ipproto.

export interface PortRange {
  first: number;
  last: number;
}

/** What an entry admits: protocol numbers (null = TCP, UDP and ICMP, the default) and ports. */
export interface ProtoPorts {
  protos: number[] | null;
  ports: PortRange[];
}

export const ALL_PORTS: PortRange = { first: 0, last: 65535 };

const PROTO_NAMES: Record<string, number> = {
  icmp: 1, icmpv4: 1, igmp: 2, ipv4: 4, "ip-in-ip": 4, tcp: 6, egp: 8, igp: 9, udp: 17, dccp: 33,
  gre: 47, esp: 50, ah: 51, icmpv6: 58, "ipv6-icmp": 58, tsmp: 99, sctp: 132,
};

/** Protocols an entry with no protocol admits (tailscaled's default set). */
export const DEFAULT_PROTOS = [6, 17, 1, 58];

/** A protocol name (any case) or IANA number; throws a message when it is neither. */
export function parseProto(text: string): number {
  const named = PROTO_NAMES[text.toLowerCase()];
  if (named !== undefined) return named;
  if (/^\d{1,3}$/.test(text) && Number(text) <= 255) return Number(text);
  throw new Error(`"${text}" is not a protocol (a name such as tcp, udp, icmp, or a number 0-255)`);
}

/** Ports: "*", "N", "N-M", or a comma list of those (the docs allow lists in `acls` dst). */
export function parsePorts(text: string): PortRange[] {
  if (text === "*") return [ALL_PORTS];
  return text.split(",").map((part) => {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part.trim());
    if (!m) throw new Error(`"${text}" is not a port list (*, 22, 80,443 or 1000-2000)`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (first > 65535 || last > 65535) throw new Error(`port ${Math.max(first, last)} in "${text}" is above 65535`);
    if (first === 0) throw new Error(`port 0 in "${text}": use * for all ports`);
    if (first > last) throw new Error(`port range ${part.trim()} in "${text}" runs backwards`);
    return { first, last };
  });
}

/** A grant `ip` item: "*", "<ports>", "proto:*", "proto:<ports>". */
export function parseIpSpec(text: string): ProtoPorts {
  if (text === "*") return { protos: null, ports: [ALL_PORTS] };
  const colon = text.lastIndexOf(":");
  if (colon < 0) return { protos: null, ports: parsePorts(text) };
  return { protos: [parseProto(text.slice(0, colon))], ports: parsePorts(text.slice(colon + 1)) };
}

/** An `acls` dst "target:ports" split at the last colon; IPv6 targets may be bracketed. */
export function splitDst(text: string): { target: string; ports: string } {
  const colon = text.lastIndexOf(":");
  if (/^(tag|group|autogroup):[^:]*$/.test(text)) throw new Error(`"${text}" has no :ports (e.g. ${text}:9100, or ${text}:* for all)`);
  if (colon <= 0 || colon === text.length - 1) throw new Error(`"${text}" is not target:ports (e.g. tag:monitor:9100)`);
  const target = text.slice(0, colon);
  return { target: target.replace(/^\[(.*)\]$/, "$1"), ports: text.slice(colon + 1) };
}

export function admits(pp: ProtoPorts, proto: number, port: number): boolean {
  const protos = pp.protos ?? DEFAULT_PROTOS;
  return protos.includes(proto) && pp.ports.some((r) => r.first <= port && port <= r.last);
}

export function protoName(proto: number): string {
  return proto === 6 ? "tcp" : proto === 17 ? "udp" : String(proto);
}
