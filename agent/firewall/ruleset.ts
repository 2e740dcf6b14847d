// The ruleset model both parsers (nft JSON, iptables-save) produce and the evaluator reads:
// chains of rules made of matches, non-terminal statements and verdicts, with constants already
// converted when the evaluator reads them (nft's rules are converted as far as packets reach).

/** Raised for input that is not a ruleset at all (garbage, truncated, wrong schema). */
export class RulesetError extends Error {}

/** A packet field a rule can read. `family`/`l4` are the implicit protocol dependencies. */
export interface Key {
  field: "l4proto" | "nfproto" | "saddr" | "daddr" | "sport" | "dport" | "iifname" | "oifname" | "iif" | "oif" | "mark" | "ctstate"
    /** ct status bits (0 for a new connection's first packet). */
    | "ctstatus"
    /** The route type of `addr` (addrtype, fib ADDR type): "local", "unicast", ... */
    | "addrtype"
    /** The device of the route back to the source, "" for none (fib saddr [. iif] oif). */
    | "fibsaddr"
    /** 1 when xt_rpfilter's reverse-path check passes (`loose`: any route back), else 0. */
    | "rpfilter"
    /** 1 when -m addrtype's test of `addr` against `types` passes, else 0. */
    | "xtaddrtype"
    /** A length the kernel reads (`lengthOf`), from the packet's UDP payload size. */
    | "length";
  /**
   * length: `udp` (udp length: 8 + payload), `ip` (IPv4 total length), `ip6` (IPv6 payload
   * length), `meta` (meta length and -m length: the whole IP packet).
   */
  lengthOf?: "udp" | "ip" | "ip6" | "meta";
  /**
   * ctstate: the set also names xt_conntrack's SNAT/DNAT (NAT status bits, see iptables-save.ts)
   * beside these real states: a packet in one of them matches whatever its NAT status.
   */
  natStatusBeside?: bigint;
  /** xtaddrtype: the types named (upper case, as iptables-save prints them). */
  types?: string[];
  /** addrtype: which address's type. */
  addr?: "saddr" | "daddr";
  /** fibsaddr: the lookup asks for the input interface (`. iif`). rpfilter: --loose. */
  viaIif?: boolean;
  loose?: boolean;
  /** Only packets of this family have the field (ip saddr: ipv4). */
  family?: "ipv4" | "ipv6";
  /** Only packets of these transport protocols have the field (udp dport: [17]). */
  l4?: number[];
  /** A bitwise and applied before comparing (meta mark & 0xff). */
  mask?: bigint;
}

/** One component of a set element: an integer range, or an interface name (prefix when `wildcard`). */
export type Component = { lo: bigint; hi: bigint } | { name: string; wildcard: boolean };

/** A set element; one component per key of a concatenation. */
export type Element = Component[];

export type Verdict =
  | { kind: "accept" }
  | { kind: "drop" }
  | { kind: "reject" }
  | { kind: "continue" }
  | { kind: "return" }
  | { kind: "jump"; target: string }
  | { kind: "goto"; target: string };

/** Elements to look a packet's key up in; verdict maps add the verdict of each, same order. */
export interface Elements {
  elements: Element[];
  verdicts?: Verdict[];
}

export interface NamedSet extends Elements {
  name: string;
}

/**
 * Where a rule reads its elements from: inline (anonymous) or a named set of the table, which
 * a parser that knows the table's sets may have looked up already (`resolved`).
 */
export type SetSource = Elements | { ref: string; resolved?: NamedSet };

export type Statement =
  | { kind: "match"; keys: Key[]; op: "in" | "notin" | "<" | ">" | "<=" | ">="; set: SetSource }
  /**
   * One key against one value, prefix, range or name (`tcp dport 22`, `ip6 saddr != fe80::/10`,
   * `iifname "eth*"`): the same as a match `in`/`notin` a one-element set, kept flat because most
   * matches of a real ruleset are this and a daemon evaluates them every cycle.
   */
  | { kind: "test"; key: Key; component: Component; negate: boolean }
  | { kind: "vmap"; keys: Key[]; set: SetSource }
  | { kind: "verdict"; verdict: Verdict }
  | { kind: "notrack" }
  | { kind: "setmark"; value: bigint }
  /** snat/masquerade: the nat chain ends for this packet, which is let through. */
  | { kind: "srcnat" }
  /** counter, log, limit (not over), comment: no effect on the verdict. */
  | { kind: "nop" }
  /** `limit rate over`: one packet never exceeds a rate, so the rule does not match. */
  | { kind: "never" }
  /** What the evaluator cannot decide: reaching it makes the verdict unknown. */
  | { kind: "unknown"; reason: string };

export interface Rule {
  /** nft's rule handle; for iptables the rule's position in its chain (as --line-numbers). */
  handle: number;
  /** The rule as a person reads it (nft syntax, or the iptables-save line). */
  text: string;
  statements: Statement[];
  /**
   * Statement i (undefined past the end), for rules a parser compiles only as far as
   * evaluation reaches; the evaluator reads a rule through this when it is there.
   */
  statementAt?(i: number): Statement | undefined;
}

export type Hook = "ingress" | "prerouting" | "input" | "forward" | "output" | "postrouting" | "egress";

export interface Chain {
  /** nft family (ip, ip6, inet, netdev, ...); iptables: ip or ip6. */
  family: string;
  table: string;
  name: string;
  /** "nft" or "iptables-legacy": legacy tables are separate from nft's, same names or not. */
  source: string;
  base?: { type: string; hook: Hook; prio: number; policy: "accept" | "drop"; device?: string[] };
  rules: Rule[];
}

export interface Ruleset {
  chains: Chain[];
  /** Chains by `source family table name`. */
  byName: Map<string, Chain>;
  /** Named sets and maps by `source family table name`. */
  sets: Map<string, NamedSet>;
  /**
   * Tables (`family table`) of nft's listing that hold iptables-nft compat expressions (`xt`),
   * which the JSON lists without their parameters: iptables-nft-save can say what they match.
   */
  xtTables?: Set<string>;
}

export function chainKey(source: string, family: string, table: string, name: string): string {
  return `${source}\0${family}\0${table}\0${name}`;
}

export function emptyRuleset(): Ruleset {
  return { chains: [], byName: new Map(), sets: new Map() };
}

export function addChain(ruleset: Ruleset, chain: Chain): void {
  ruleset.chains.push(chain);
  ruleset.byName.set(chainKey(chain.source, chain.family, chain.table, chain.name), chain);
}

/** Several sources read on one host (nft and the legacy tables) make one ruleset. */
export function mergeRulesets(parts: Ruleset[]): Ruleset {
  const out = emptyRuleset();
  for (const part of parts) {
    for (const chain of part.chains) addChain(out, chain);
    for (const [key, set] of part.sets) out.sets.set(key, set);
  }
  return out;
}

/**
 * The same host's ruleset with some of its tables read another way: every chain of a table the
 * replacement holds (same family and name) comes from the replacement (iptables-nft-save's
 * reading of the tables nft lists with `xt` expressions), the rest stays as it was.
 */
export function replaceTables(base: Ruleset, replacement: Ruleset): Ruleset {
  const replaced = new Set(replacement.chains.map((c) => `${c.family} ${c.table}`));
  const out = emptyRuleset();
  for (const chain of base.chains) if (!replaced.has(`${chain.family} ${chain.table}`)) addChain(out, chain);
  for (const chain of replacement.chains) addChain(out, chain);
  for (const [key, set] of base.sets) out.sets.set(key, set);
  for (const [key, set] of replacement.sets) out.sets.set(key, set);
  return out;
}

export function verdictText(v: Verdict): string {
  return v.kind === "jump" || v.kind === "goto" ? `${v.kind} ${v.target}` : v.kind;
}
