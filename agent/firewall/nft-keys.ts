// What the left-hand side of an nft match reads: the packet field(s) as model keys, the kind
// of constant each is compared with, and the implicit dependencies nft adds but does not list
// (`udp dport` implies `meta l4proto udp`; `ip6 saddr` in an inet table implies ipv6).
import type { Key, Statement } from "./ruleset";
import { isObj, soleKey, Unmodelled, type Json, type Obj } from "./nft-shape";
import type { Kind } from "./nft-values";
import { renderValue } from "./nft-render";

const PORT_PROTOS = [6, 17, 33, 132, 136];
/** Payload protocols that are transport headers: their implicit dependency is meta l4proto. */
export const L4_HEADERS: Record<string, number[]> = { udp: [17], tcp: [6], th: PORT_PROTOS, icmp: [1], icmpv6: [58], sctp: [132], dccp: [33], udplite: [136], esp: [50], ah: [51], comp: [108], igmp: [2] };
/** Transport headers that have ports (th: any of them). */
const PORT_HEADERS = new Set(Object.keys(L4_HEADERS).filter((h) => L4_HEADERS[h].some((p) => PORT_PROTOS.includes(p))));

/** The key(s) a left-hand side reads, plus the implicit dependency matches nft adds for them. */
/** In a table of several families, reading an IP header implies meta nfproto. */
export function familyDep(tableFamily: string, family: "ipv4" | "ipv6"): "ipv4" | "ipv6" | undefined {
  return tableFamily === "inet" || tableFamily === "bridge" || tableFamily === "netdev" ? family : undefined;
}

/** What a left-hand side reads: its key(s), and the kind of constant each is compared with. */
export interface Read {
  keys: Key[];
  kinds: Kind[];
}

/**
 * Rulesets read the same few fields over and over: one Read per field, shared by every rule
 * (never changed after parsing).
 */
const sharedReads = new Map<string, Map<string, Read>>();

function shared(group: string, name: string, field: Key["field"], kind: Kind, family?: "ipv4" | "ipv6", l4?: number[]): Read {
  let byName = sharedReads.get(group);
  if (!byName) sharedReads.set(group, (byName = new Map()));
  let read = byName.get(name);
  if (!read) {
    const key: Key = { field };
    if (family) key.family = family;
    if (l4) key.l4 = l4;
    byName.set(name, (read = { keys: [key], kinds: [kind] }));
  }
  return read;
}

/** The key(s) a left-hand side reads; what is returned is shared and must not be changed. */
export function keysOf(left: Json, tableFamily: string, deps?: Statement[]): Read {
  const k = soleKey(left);
  const body = (left as Obj)[k];
  const b = body as Obj;
  switch (k) {
    case "concat": {
      const parts = (body as Json[]).map((part) => keysOf(part, tableFamily, deps));
      return { keys: parts.flatMap((p) => p.keys), kinds: parts.flatMap((p) => p.kinds) };
    }
    case "&": {
      const [inner, mask] = body as Json[];
      const { keys, kinds } = keysOf(inner, tableFamily, deps);
      if (keys.length !== 1 || keys[0].field !== "mark" || typeof mask !== "number") throw new Unmodelled("a bitwise and on anything but meta mark is not modelled");
      return { keys: [{ ...keys[0], mask: BigInt(mask) }], kinds };
    }
    case "payload": {
      const proto = String(b.protocol);
      const field = String(b.field);
      if (proto === "ip" || proto === "ip6") {
        const family = proto === "ip" ? "ipv4" : "ipv6";
        if (field === "saddr" || field === "daddr") return shared(proto, field, field, family === "ipv4" ? "addr4" : "addr6", family);
        if (field === "protocol" || field === "nexthdr") return shared(proto, field, "l4proto", "proto", family);
        if (field === "length") return { keys: [{ field: "length", lengthOf: proto, family }], kinds: ["num"] };
        if (familyDep(tableFamily, family)) deps?.push({ kind: "match", keys: [{ field: "nfproto" }], op: "in", set: { elements: [[{ lo: family === "ipv4" ? 2n : 10n, hi: family === "ipv4" ? 2n : 10n }]] } });
        throw new Unmodelled(`${proto} ${field} is not modelled`);
      }
      const l4 = L4_HEADERS[proto];
      if (l4) {
        if ((field === "sport" || field === "dport") && PORT_HEADERS.has(proto)) return shared(proto, field, field, "num", undefined, l4);
        if (field === "length" && proto === "udp") return { keys: [{ field: "length", lengthOf: "udp", l4 }], kinds: ["num"] };
        deps?.push({ kind: "match", keys: [{ field: "l4proto" }], op: "in", set: { elements: l4.map((p) => [{ lo: BigInt(p), hi: BigInt(p) }]) } });
        throw new Unmodelled(`${proto} ${field} is not modelled`);
      }
      throw new Unmodelled(`payload ${renderValue(left)} is not modelled`);
    }
    case "meta": {
      const key = String(b.key);
      switch (key) {
        case "l4proto": return shared("meta", key, "l4proto", "proto");
        case "nfproto": return shared("meta", key, "nfproto", "nfproto");
        case "protocol": return shared("meta", key, "nfproto", "ethertype");
        case "iifname": case "oifname": case "iif": case "oif": return shared("meta", key, key, "ifname");
        case "mark": return shared("meta", key, "mark", "num");
        case "length": return { keys: [{ field: "length", lengthOf: "meta" }], kinds: ["num"] };
        default: throw new Unmodelled(`meta ${key} is not modelled`);
      }
    }
    case "ct":
      if (b.key === "state" && b.dir === undefined) return shared("ct", "state", "ctstate", "ctstate");
      if (b.key === "status" && b.dir === undefined) return shared("ct", "status", "ctstatus", "ctstatus");
      throw new Unmodelled(`ct ${b.key} is not modelled`);
    case "fib": return fibRead(b);
    default: throw new Unmodelled(`${k} expressions are not modelled`);
  }
}

/**
 * `fib saddr [. mark] [. iif] oif|oifname` (the reverse-path check) and `fib saddr|daddr type`
 * (the address's route type). The mark would select a policy-routing table, which is not
 * followed: the main table answers.
 */
function fibRead(b: Obj): Read {
  const flags = (Array.isArray(b.flags) ? b.flags : [b.flags]).map(String);
  const addr = flags.includes("saddr") ? "saddr" : flags.includes("daddr") ? "daddr" : null;
  const extra = flags.filter((f) => f !== "saddr" && f !== "daddr" && f !== "mark" && f !== "iif");
  const what = `fib ${flags.join(" . ")} ${String(b.result)}`;
  if (!addr || extra.length > 0) throw new Unmodelled(`${what} is not modelled`);
  if (b.result === "type" && !flags.includes("iif")) return { keys: [{ field: "addrtype", addr }], kinds: ["name"] };
  if ((b.result === "oif" || b.result === "oifname") && addr === "saddr") return { keys: [{ field: "fibsaddr", viaIif: flags.includes("iif") }], kinds: ["ifname"] };
  throw new Unmodelled(`${what} is not modelled`);
}

const IPV6_EXTENSION_HEADERS = new Set(["hbh", "rt", "frag", "dst", "mh", "srh"]);

/**
 * A match on an IPv6 extension header (`rt type 0`, `exthdr frag exists`): the datagrams asked
 * about carry none, so reading a field or asking whether it exists fails, and `missing` holds
 * for IPv6 (the implicit dependency on IPv6 stays in a table of several families). Null for any
 * other left-hand side.
 */
export function extensionHeaderMatch(m: Obj, tableFamily: string): Statement[] | null {
  const left = m.left;
  if (!isObj(left) || !isObj(left.exthdr)) return null;
  const name = String(left.exthdr.name);
  if (!IPV6_EXTENSION_HEADERS.has(name)) throw new Unmodelled(`exthdr ${name} is not modelled`);
  const asksMissing = left.exthdr.field === undefined && typeof m.right === "boolean" && m.right === (m.op === "!=");
  if (!asksMissing) return [{ kind: "never" }];
  return familyDep(tableFamily, "ipv6") ? [{ kind: "test", key: { field: "nfproto" }, component: { lo: 10n, hi: 10n }, negate: false }] : [];
}
