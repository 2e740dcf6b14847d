// A packet's answer as one of a batch (`firewall trace --packets`: each chain's rules sorted out
// once per class of packets, the rest skipped) is exactly its answer alone: verdict, every trace
// step, what decided, the reason of an unknown and the length note, on a ruleset that mixes
// what skipping must respect (interfaces not given, marks, notrack, lengths, missing sets, maps,
// jumps, gotos, loops) and packets of every class.
import { describe, expect, it } from "vitest";
import { evaluate } from "../../agent/firewall/evaluate";
import { parseNftJson } from "../../agent/firewall/nft-json";
import { makePacket, type PacketSpec } from "../../agent/firewall/packet";

type Obj = Record<string, unknown>;
let handle = 10;
const table = (family: string, name: string) => ({ table: { family, name, handle: 1 } });
const base = (family: string, tbl: string, name: string, hook: string, prio: number, policy = "accept", dev?: string) => ({ chain: { family, table: tbl, name, handle: 1, type: "filter", hook, prio, policy, ...(dev ? { dev } : {}) } });
const user = (family: string, tbl: string, name: string) => ({ chain: { family, table: tbl, name, handle: 2 } });
const rule = (family: string, tbl: string, chain: string, ...expr: Obj[]) => ({ rule: { family, table: tbl, chain, handle: handle++, expr } });
const m = (left: Obj, right: unknown, op = "==") => ({ match: { op, left, right } });
const pl = (protocol: string, field: string) => ({ payload: { protocol, field } });
const meta = (key: string) => ({ meta: { key } });
const ct = { ct: { key: "state" } };
const ACCEPT = { accept: null };
const DROP = { drop: null };
const COUNTER = { counter: { packets: 0, bytes: 0 } };

/** Rules in the bench's shapes and in every shape the skipping treats apart. */
function ruleset(): string {
  const I = (...expr: Obj[]) => rule("inet", "f", "input", ...expr);
  const items: Obj[] = [
    table("inet", "f"),
    { set: { family: "inet", table: "f", name: "blocked4", type: "ipv4_addr", flags: ["interval"], elem: [{ prefix: { addr: "192.0.2.0", len: 24 } }] } },
    { map: { family: "inet", table: "f", name: "ports", type: "inet_service", map: "verdict", elem: [[5000, ACCEPT], [5001, DROP]] } },
    base("inet", "f", "raw", "prerouting", -300), base("inet", "f", "rawout", "output", -300),
    base("inet", "f", "mangle", "prerouting", -150),
    base("inet", "f", "input", "input", 0, "drop"), base("inet", "f", "output", "output", 0, "drop"), base("inet", "f", "forward", "forward", 0, "drop"),
    base("inet", "f", "post", "postrouting", 0),
    user("inet", "f", "svc"), user("inet", "f", "deep"), user("inet", "f", "loop"),
    table("ip6", "six"), base("ip6", "six", "input", "input", 10), table("ip", "four"), base("ip", "four", "forward", "forward", 10),
    table("netdev", "edge"), base("netdev", "edge", "ingress", "ingress", 0, "accept", "eth3"),
    rule("inet", "f", "raw", m(pl("udp", "dport"), 7000), { notrack: null }),
    rule("inet", "f", "rawout", m(meta("oifname"), "eth7"), m(pl("tcp", "sport"), 7001), { notrack: null }),
    rule("inet", "f", "mangle", m(pl("ip", "saddr"), "10.9.0.1"), { mangle: { key: meta("mark"), value: 7 } }),
    rule("inet", "f", "mangle", m(meta("iifname"), "eth5"), { mangle: { key: meta("mark"), value: 9 } }),
    I(m(ct, ["established", "related"]), ACCEPT),
    I(m(ct, "untracked"), m(pl("udp", "dport"), 7000), ACCEPT),
    I(m(pl("udp", "dport"), 4000), { jump: { target: "loop" } }),
    I(m(meta("mark"), 7), m(pl("tcp", "dport"), 22), ACCEPT),
    I(m(meta("mark"), 9), DROP),
    I(m(meta("iif"), "lo"), ACCEPT),
    I(m(pl("udp", "length"), 1320, ">"), m(pl("udp", "dport"), 41641), DROP),
    I(m(meta("iifname"), "wg*"), m(pl("udp", "dport"), 51820), ACCEPT),
    I(m(pl("ip6", "saddr"), "2001:db8:100::1"), m(pl("udp", "dport"), 53), { jump: { target: "svc" } }),
    I(m(pl("tcp", "dport"), 443), { goto: { target: "svc" } }),
    I({ vmap: { key: pl("udp", "dport"), data: "@ports" } }),
    I(m(pl("ip", "saddr"), "@blocked4"), m(pl("tcp", "dport"), 8080), DROP),
    I(m(pl("ip", "saddr"), "@nosuchset"), m(pl("udp", "dport"), 9), DROP),
    I(m(meta("l4proto"), "udp"), m({ payload: { protocol: "th", field: "dport" } }, { set: [6000, 6001] }), m(pl("ip6", "daddr"), { prefix: { addr: "2001:db8:1::", len: 48 } }, "!="), ACCEPT),
    I({ limit: { rate: 1, per: "second", inv: true } }, m(pl("udp", "dport"), 6002), DROP),
    I(m(pl("tcp", "dport"), 6003), { dnat: { addr: "10.0.0.1" } }),
    I(m(meta("nfproto"), "ipv4"), m(pl("udp", "sport"), 123), ACCEPT),
    rule("inet", "f", "svc", m(pl("udp", "dport"), 53), ACCEPT),
    rule("inet", "f", "svc", m(pl("tcp", "dport"), 443), m(meta("iifname"), "eth1"), { jump: { target: "deep" } }),
    rule("inet", "f", "svc", { return: null }),
    rule("inet", "f", "deep", m(pl("ip", "daddr"), "203.0.113.1"), DROP),
    rule("inet", "f", "deep", COUNTER, ACCEPT),
    // A goto loop: its unknown names the chain whatever rules of it the batch skips.
    rule("inet", "f", "loop", m(pl("ip", "saddr"), "10.1.1.1"), DROP),
    rule("inet", "f", "loop", m(pl("tcp", "dport"), 1), DROP),
    rule("inet", "f", "loop", { goto: { target: "loop" } }),
    rule("inet", "f", "output", m(meta("oifname"), "eth7"), m(pl("tcp", "sport"), 7001), m(ct, "untracked"), ACCEPT),
    rule("inet", "f", "output", m(meta("iifname"), ""), m(pl("udp", "sport"), 41641), ACCEPT),
    rule("inet", "f", "output", m(pl("ip6", "daddr"), "2001:db8:2::1"), m(pl("tcp", "dport"), 25), DROP),
    rule("inet", "f", "output", m(meta("length"), 100, "<"), ACCEPT),
    rule("inet", "f", "forward", m(meta("iifname"), "eth1"), m(meta("oifname"), "eth2"), ACCEPT),
    rule("inet", "f", "forward", m(meta("oifname"), "eth*"), m(pl("udp", "dport"), 41641), ACCEPT),
    rule("inet", "f", "forward", m(pl("ip6", "saddr"), "2001:db8:100::1"), m(pl("tcp", "sport"), 80), ACCEPT),
    rule("inet", "f", "post", m(meta("oifname"), "eth9"), DROP),
    rule("ip6", "six", "input", m(pl("udp", "dport"), 5353), DROP),
    rule("ip", "four", "forward", m(pl("tcp", "dport"), 3389), DROP),
    rule("netdev", "edge", "ingress", m(pl("udp", "dport"), 1900), DROP),
  ];
  // The bench's shapes, many of them, so that sorting out has something to skip.
  for (let r = 0; r < 400; r++)
    items.push(r % 4 === 0 ? I(m(pl("ip6", "daddr"), `2001:db8:${r}::1`), m(pl("tcp", "dport"), 1000 + r), ACCEPT)
      : r % 4 === 1 ? I(m(meta("iifname"), `eth${r % 8}`), m(pl("tcp", "sport"), 1000 + r), COUNTER, ACCEPT)
        : r % 4 === 2 ? I(m(pl("ip", "daddr"), `203.0.113.${r % 255}`), m(pl("udp", "dport"), 1000 + r), DROP)
          : I(m(pl("ip", "saddr"), { prefix: { addr: `10.${r % 200}.0.0`, len: 16 } }), m(pl("udp", "sport"), 1000 + r), DROP));
  return JSON.stringify({ nftables: [{ metainfo: { version: "1.0.6", json_schema_version: 1 } }, ...items] });
}

/** Deterministic draws, so that a failure replays. */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    return (a >>> 8) % n;
  };
}

function packets(count: number): PacketSpec[] {
  const r = rng(21);
  const pick = <T>(xs: readonly T[]): T => xs[r(xs.length)];
  const ports = [22, 25, 53, 80, 123, 443, 1, 9, 1900, 3389, 4000, 5000, 5001, 5353, 6000, 6002, 6003, 7000, 7001, 8080, 41641, 51820, 1004, 1005, 1006, 1007, 1100, 1101, 1102, 1103, 1399];
  const out: PacketSpec[] = [];
  for (let i = 0; i < count; i++) {
    const family = pick(["ipv4", "ipv6"] as const);
    const direction = pick(["in", "out", "forward"] as const);
    const spec: PacketSpec = {
      direction, family, proto: pick(["udp", "tcp"] as const),
      saddr: family === "ipv4" ? pick(["10.9.0.1", "10.1.1.1", "192.0.2.7", "10.12.3.4", "198.51.100.1"]) : pick(["2001:db8:100::1", "2001:db8:5::2", "fe80::1"]),
      daddr: family === "ipv4" ? pick(["203.0.113.1", "203.0.113.6", "203.0.113.10", "192.0.2.1"]) : pick(["2001:db8:1::5", "2001:db8:2::1", "2001:db8:4::1", "2001:db8:8::1"]),
      sport: pick(ports), dport: pick(ports), ctState: pick(["new", "new", "established", "related", "untracked"] as const),
    };
    if (r(3) > 0) spec.iif = pick(["eth0", "eth1", "eth3", "eth5", "wg0", "lo"]);
    if (r(3) > 0) spec.oif = pick(["eth2", "eth7", "eth9", "tun0"]);
    if (r(2) > 0) spec.length = pick([0, 32, 64, 1280, 1312, 1400]);
    out.push(spec);
  }
  return out;
}

describe("firewall trace --packets: a batch answers as single traces do", () => {
  it("gives every packet of a varied set exactly its single answer", () => {
    const json = ruleset();
    // The batch's ruleset is read once for all packets; each single answer from a fresh reading.
    const shared = parseNftJson(json);
    const specs = packets(1500);
    const verdicts = new Set<string>();
    const reasons = new Set<string>();
    for (const spec of specs) {
      const packet = makePacket(spec as unknown as Record<string, unknown>);
      const alone = evaluate(parseNftJson(json), packet);
      const batch = evaluate(shared, packet, undefined, { batch: true });
      expect(batch, JSON.stringify(spec)).toEqual(alone);
      verdicts.add(alone.verdict);
      if (alone.reason) reasons.add(alone.reason.replace(/^.*: /, ""));
    }
    // The set reaches every outcome the skipping must leave alone.
    expect([...verdicts].sort()).toEqual(["accept", "drop", "unknown"]);
    const all = [...reasons].join("\n");
    for (const why of [/--iif is not given/, /give --oif/, /length/, /nosuchset/, /does not end/, /destination/]) expect(all).toMatch(why);
  });
});
