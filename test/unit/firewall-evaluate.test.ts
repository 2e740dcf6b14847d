// The evaluator on hand-made nft JSON: kernel ordering, verdict semantics, sets and maps,
// implicit dependencies, and `unknown` (never a guess) for what it does not model.
import { describe, expect, it } from "vitest";
import { evaluate } from "../../agent/firewall/evaluate";
import { parseNftJson } from "../../agent/firewall/nft-json";
import { makePacket, type PacketSpec } from "../../agent/firewall/packet";

type Obj = Record<string, unknown>;
const table = (family: string, name: string) => ({ table: { family, name, handle: 1 } });
const base = (family: string, tbl: string, name: string, hook: string, prio: number, policy = "accept") => ({ chain: { family, table: tbl, name, handle: 1, type: "filter", hook, prio, policy } });
const user = (family: string, tbl: string, name: string) => ({ chain: { family, table: tbl, name, handle: 2 } });
let handle = 10;
const rule = (family: string, tbl: string, chain: string, ...expr: Obj[]) => ({ rule: { family, table: tbl, chain, handle: handle++, expr } });
const docOf = (items: Obj[]) => JSON.stringify({ nftables: [{ metainfo: { version: "1.0.6", json_schema_version: 1 } }].concat(items as never[]) });
const doc = (...items: Obj[]) => docOf(items);
const m = (left: Obj, right: unknown, op = "==") => ({ match: { op, left, right } });
const udp = (field: string) => ({ payload: { protocol: "udp", field } });
const ip6 = (field: string) => ({ payload: { protocol: "ip6", field } });
const ct = { ct: { key: "state" } };
const ACCEPT = { accept: null };
const DROP = { drop: null };

function packet(over: Partial<PacketSpec> = {}) {
  return makePacket({ direction: "in", family: "ipv6", proto: "udp", saddr: "2001:db8:100::1", daddr: "2001:db8:1::2", sport: 41641, dport: 41641, iif: "eth0", ...over });
}
const verdict = (json: string, over: Partial<PacketSpec> = {}) => evaluate(parseNftJson(json), packet(over));

describe("firewall evaluator (nft JSON)", () => {
  it("an accept in one table does not outvote a drop in another on the same hook", () => {
    const json = doc(
      table("inet", "filter"), base("inet", "filter", "input", "input", 0, "drop"), rule("inet", "filter", "input", m(udp("dport"), 41641), ACCEPT),
      table("ip6", "strict"), base("ip6", "strict", "input", "input", 10), rule("ip6", "strict", "input", m(udp("dport"), 41641), DROP),
    );
    const d = verdict(json);
    expect(d.verdict).toBe("drop");
    expect(d.decidedBy).toMatch(/^ip6 strict input handle \d+: udp dport 41641 drop$/);
    expect(d.trace.map((s) => s.result)).toEqual(["accept", "drop"]);
    // The ip6 table never sees IPv4: the inet accept stands.
    expect(verdict(json, { family: "ipv4", saddr: "192.0.2.1", daddr: "192.0.2.2" }).verdict).toBe("accept");
  });

  it("runs base chains in priority order, not in listing order", () => {
    const json = doc(
      table("inet", "t"),
      base("inet", "t", "late", "input", 10), rule("inet", "t", "late", { drop: null }),
      base("inet", "t", "early", "input", -10, "drop"),
    );
    const d = verdict(json);
    expect(d.verdict).toBe("drop");
    expect(d.trace[0].chain).toBe("early");
    expect(d.decidedBy).toBe("inet t early: policy drop");
  });

  it("jump returns, goto does not, return in a base chain applies the policy", () => {
    const json = doc(
      table("inet", "t"), base("inet", "t", "input", "input", 0, "drop"), user("inet", "t", "check"),
      rule("inet", "t", "input", m(udp("dport"), 41641), { jump: { target: "check" } }),
      rule("inet", "t", "input", m(udp("dport"), 5000), { goto: { target: "check" } }),
      rule("inet", "t", "input", m(udp("dport"), 53), { return: null }),
      rule("inet", "t", "input", ACCEPT),
      rule("inet", "t", "check", m(ip6("saddr"), { prefix: { addr: "2001:db8:200::", len: 48 } }), DROP),
    );
    expect(verdict(json).verdict).toBe("accept");
    expect(verdict(json, { saddr: "2001:db8:200::9" }).verdict).toBe("drop");
    expect(verdict(json, { dport: 5000 }).decidedBy).toBe("inet t input: policy drop");
    expect(verdict(json, { dport: 53 }).verdict).toBe("drop");
  });

  it("notrack before conntrack (priority < -200) makes the packet untracked; later it changes nothing", () => {
    const json = (prio: number) => doc(
      table("inet", "t"), base("inet", "t", "raw", "prerouting", prio), rule("inet", "t", "raw", { notrack: null }),
      base("inet", "t", "input", "input", 0, "drop"), rule("inet", "t", "input", m(ct, "untracked", "in"), ACCEPT),
    );
    expect(verdict(json(-300)).verdict).toBe("accept");
    expect(verdict(json(-100)).verdict).toBe("drop");
  });

  it("ct state reads invalid in chains that run before conntrack (priority below -200)", () => {
    const json = doc(table("inet", "t"), base("inet", "t", "out", "output", -300), rule("inet", "t", "out", m(ct, "new", "!="), DROP));
    const out = { direction: "out" as const, iif: undefined, oif: "eth0" };
    expect(verdict(json, out).verdict).toBe("drop");
    const later = doc(table("inet", "t"), base("inet", "t", "out", "output", -150), rule("inet", "t", "out", m(ct, "new", "!="), DROP));
    expect(verdict(later, out).verdict).toBe("accept");
  });

  it("ct state: new by default, and a list is any of its states", () => {
    const json = doc(table("inet", "t"), base("inet", "t", "input", "input", 0, "drop"), rule("inet", "t", "input", m(ct, ["established", "related"], "in"), ACCEPT));
    expect(verdict(json).verdict).toBe("drop");
    expect(verdict(json, { ctState: "established" }).verdict).toBe("accept");
  });

  it("named interval sets, concatenations and verdict maps (named and inline)", () => {
    const json = doc(
      table("inet", "t"),
      { set: { family: "inet", table: "t", name: "svc", type: "ipv6_addr", flags: ["interval"], elem: [{ prefix: { addr: "2001:db8:100::", len: 56 } }, { range: ["2001:db8:9::1", "2001:db8:9::5"] }] } },
      { set: { family: "inet", table: "t", name: "pairs", type: ["ipv6_addr", "inet_service"], elem: [{ concat: ["2001:db8:7::1", { range: [5000, 5010] }] }] } },
      { map: { family: "inet", table: "t", name: "ports", type: "inet_service", map: "verdict", elem: [[53, DROP], [161, ACCEPT]] } },
      base("inet", "t", "input", "input", 0, "drop"),
      rule("inet", "t", "input", { vmap: { key: udp("dport"), data: "@ports" } }),
      rule("inet", "t", "input", { vmap: { key: { meta: { key: "nfproto" } }, data: { set: [["ipv4", ACCEPT]] } } }),
      rule("inet", "t", "input", m(ip6("saddr"), "@svc"), ACCEPT),
      rule("inet", "t", "input", m({ concat: [ip6("saddr"), udp("dport")] }, "@pairs"), ACCEPT),
    );
    expect(verdict(json).verdict).toBe("accept");
    expect(verdict(json, { saddr: "2001:db8:9::3" }).verdict).toBe("accept");
    expect(verdict(json, { saddr: "2001:db8:9::6" }).verdict).toBe("drop");
    expect(verdict(json, { saddr: "2001:db8:7::1", dport: 5007 }).verdict).toBe("accept");
    expect(verdict(json, { saddr: "2001:db8:7::1", dport: 5011 }).verdict).toBe("drop");
    expect(verdict(json, { dport: 53 }).verdict).toBe("drop");
    expect(verdict(json, { saddr: "2001:db8:2::1", dport: 161 }).verdict).toBe("accept");
    expect(verdict(json, { family: "ipv4", saddr: "192.0.2.1", daddr: "192.0.2.2", dport: 9 }).verdict).toBe("accept");
  });

  it("implicit dependencies: udp dport never matches tcp, ip6 saddr != X never matches IPv4", () => {
    const json = doc(
      table("inet", "t"), base("inet", "t", "input", "input", 0),
      rule("inet", "t", "input", m(udp("dport"), 41641, "!="), DROP),
      rule("inet", "t", "input", m(ip6("saddr"), "2001:db8::1", "!="), DROP),
    );
    expect(verdict(json, { proto: "tcp", dport: 22, saddr: "2001:db8::1" }).verdict).toBe("accept");
    expect(verdict(json, { family: "ipv4", saddr: "192.0.2.1", daddr: "192.0.2.2" }).verdict).toBe("accept");
    expect(verdict(json, { dport: 22 }).verdict).toBe("drop");
  });

  it("reject of type icmp in an inet table only applies to IPv4 (nft lists the nfproto match away)", () => {
    const json = doc(table("inet", "t"), base("inet", "t", "input", "input", 0), rule("inet", "t", "input", { reject: { type: "icmp", expr: "port-unreachable" } }));
    expect(verdict(json).verdict).toBe("accept");
    expect(verdict(json, { family: "ipv4", saddr: "192.0.2.1", daddr: "192.0.2.2" }).verdict).toBe("drop");
  });

  it("counter and log change nothing; limit is assumed not exceeded (limit over never matches)", () => {
    const json = doc(
      table("inet", "t"), base("inet", "t", "input", "input", 0, "drop"),
      rule("inet", "t", "input", { limit: { rate: 1, per: "second", inv: true } }, DROP),
      rule("inet", "t", "input", { counter: { packets: 0, bytes: 0 } }, { log: { prefix: "x" } }, { limit: { rate: 10, per: "second" } }, ACCEPT),
    );
    expect(verdict(json).verdict).toBe("accept");
  });

  it("meta mark set is seen by later chains", () => {
    const mark = { meta: { key: "mark" } };
    const json = doc(
      table("inet", "t"), base("inet", "t", "pre", "prerouting", -150), rule("inet", "t", "pre", { mangle: { key: mark, value: 7 } }),
      base("inet", "t", "input", "input", 0), rule("inet", "t", "input", m({ "&": [mark, 0xff] }, 7), DROP),
    );
    expect(verdict(json).verdict).toBe("drop");
  });

  it("interface names: input devices need --iif; locally sent packets have none", () => {
    const json = doc(table("inet", "t"), base("inet", "t", "input", "input", 0), base("inet", "t", "output", "output", 0),
      rule("inet", "t", "input", m({ meta: { key: "iifname" } }, "eth*"), DROP),
      rule("inet", "t", "output", m({ meta: { key: "iifname" } }, "eth0", "!="), DROP));
    expect(verdict(json).verdict).toBe("drop");
    expect(verdict(json, { iif: "wg0" }).verdict).toBe("accept");
    const noIif = verdict(json, { iif: undefined });
    expect(noIif.verdict).toBe("unknown");
    expect(noIif.reason).toMatch(/--iif/);
    expect(verdict(json, { direction: "out", iif: undefined, oif: "eth0" }).verdict).toBe("drop");
  });

  it("nat chains see only new connections; masquerade lets the packet through", () => {
    const json = doc(table("ip", "nat"), { chain: { family: "ip", table: "nat", name: "post", handle: 1, type: "nat", hook: "postrouting", prio: 100, policy: "drop" } },
      rule("ip", "nat", "post", m({ meta: { key: "oifname" } }, "eth0"), { masquerade: null }));
    const out = { direction: "out" as const, family: "ipv4" as const, saddr: "192.0.2.1", daddr: "198.51.100.1", oif: "eth0" };
    expect(verdict(json, out).verdict).toBe("accept");
    expect(verdict(json, { ...out, oif: "eth1" }).verdict).toBe("drop");
    expect(verdict(json, { ...out, oif: "eth1", ctState: "established" }).verdict).toBe("accept");
  });
});

describe("firewall evaluator: what it cannot decide", () => {
  it("a reverse-path fib rule on a saved ruleset (no host routes) makes the verdict unknown, naming the rule, only when a packet reaches it", () => {
    const json = doc(table("inet", "t"), base("inet", "t", "pre", "prerouting", -150),
      rule("inet", "t", "pre", m(udp("dport"), 53), m({ fib: { result: "oif", flags: ["saddr", "iif"] } }, false), DROP));
    const d = verdict(json, { dport: 53 });
    expect(d.verdict).toBe("unknown");
    expect(d.reason).toMatch(/^inet t pre handle \d+: udp dport 53 fib saddr . iif oif missing drop: cannot be decided: a reverse-path lookup needs this host's routes/);
    expect(verdict(json).verdict).toBe("accept");
  });

  it("one parsed ruleset answers every packet alike, whichever it was asked first", () => {
    // Rules are converted as far as packets reach them: a packet stopped at the first match
    // must not change what a later packet that gets further sees, nor the other way round.
    const json = doc(table("inet", "t"), base("inet", "t", "input", "input", 0, "drop"),
      rule("inet", "t", "input", m(udp("dport"), 53), m({ fib: { result: "oif", flags: ["saddr", "iif"] } }, false), DROP),
      rule("inet", "t", "input", m(udp("dport"), 41641), m(ip6("saddr"), { prefix: { addr: "2001:db8:100::", len: 48 } }), ACCEPT),
      rule("inet", "t", "input", m(udp("dport"), 5000), ACCEPT));
    const asks: Partial<PacketSpec>[] = [{}, { dport: 53 }, { saddr: "2001:db8:200::1" }, { dport: 5000 }, { family: "ipv4", saddr: "192.0.2.1", daddr: "192.0.2.2" }];
    const fresh = asks.map((over) => verdict(json, over));
    expect(fresh.map((d) => d.verdict)).toEqual(["accept", "unknown", "drop", "accept", "drop"]);
    for (const order of [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [1, 1, 0, 2, 0, 4, 3]]) {
      const ruleset = parseNftJson(json);
      for (const i of order) expect(evaluate(ruleset, packet(asks[i])), `order ${order.join(",")} packet ${i}`).toEqual(fresh[i]);
    }
  });

  it("an iptables-nft compat (xt) expression is unknown and says to read iptables-nft-save", () => {
    const json = doc(table("ip", "filter"), base("ip", "filter", "INPUT", "input", 0), rule("ip", "filter", "INPUT", { xt: { type: "match", name: "multiport" } }, ACCEPT));
    const d = verdict(json, { family: "ipv4", saddr: "192.0.2.1", daddr: "192.0.2.2" });
    expect(d.verdict).toBe("unknown");
    expect(d.reason).toMatch(/iptables-nft-save/);
  });

  it("icmpv6 type: the implied protocol still decides for UDP packets", () => {
    const json = doc(table("inet", "t"), base("inet", "t", "input", "input", 0, "drop"),
      rule("inet", "t", "input", m({ payload: { protocol: "icmpv6", field: "type" } }, "echo-request"), ACCEPT),
      rule("inet", "t", "input", m(udp("dport"), 41641), ACCEPT));
    expect(verdict(json).verdict).toBe("accept");
  });

  it("a jump to a missing chain, a jump loop and a goto loop end as unknown", () => {
    const missing = doc(table("inet", "t"), base("inet", "t", "input", "input", 0), rule("inet", "t", "input", { jump: { target: "nowhere" } }));
    expect(verdict(missing).reason).toMatch(/jump to chain nowhere, which does not exist/);
    const loop = doc(table("inet", "t"), base("inet", "t", "input", "input", 0), user("inet", "t", "a"), user("inet", "t", "b"),
      rule("inet", "t", "input", { jump: { target: "a" } }), rule("inet", "t", "a", { jump: { target: "b" } }), rule("inet", "t", "b", { jump: { target: "a" } }));
    expect(verdict(loop).reason).toMatch(/jump loop/);
    const gotoLoop = doc(table("inet", "t"), base("inet", "t", "input", "input", 0), user("inet", "t", "a"),
      rule("inet", "t", "input", { goto: { target: "a" } }), rule("inet", "t", "a", { goto: { target: "a" } }));
    expect(verdict(gotoLoop).verdict).toBe("unknown");
  });

  it("a set whose element type is not modelled makes the rules using it unknown", () => {
    const json = doc(table("inet", "t"), { set: { family: "inet", table: "t", name: "macs", type: "ether_addr", elem: ["aa:bb:cc:dd:ee:ff"] } },
      base("inet", "t", "input", "input", 0), rule("inet", "t", "input", m({ meta: { key: "iifname" } }, "eth0"), m(udp("dport"), "@macs"), DROP));
    expect(verdict(json).reason).toMatch(/ether_addr/);
    // With something unmodelled later in the rule, the set is still what is named, and a packet
    // that fails the match before the set never reaches either.
    const later = doc(table("inet", "t"), { set: { family: "inet", table: "t", name: "macs", type: "ether_addr", elem: ["aa:bb:cc:dd:ee:ff"] } },
      base("inet", "t", "input", "input", 0), rule("inet", "t", "input", m({ meta: { key: "iifname" } }, "eth0"), m(udp("dport"), "@macs"), m({ fib: { result: "oif", flags: ["saddr", "iif"] } }, false), DROP));
    expect(verdict(later).reason).toMatch(/set @macs: element type ether_addr is not modelled/);
    expect(verdict(later, { iif: "wg0" }).verdict).toBe("accept");
  });
});

describe("nft JSON input that is not a ruleset", () => {
  it("garbage, truncated JSON and other documents are clear errors", () => {
    expect(() => parseNftJson("hello")).toThrow(/not valid JSON/);
    expect(() => parseNftJson(doc(table("inet", "t")).slice(0, 50))).toThrow(/not valid JSON.*complete/);
    expect(() => parseNftJson('{"foo": 1}')).toThrow(/no "nftables" array/);
    expect(() => parseNftJson('{"nftables": [1]}')).toThrow(/not an object/);
  });

  it("an unknown schema version is refused", () => {
    expect(() => parseNftJson(JSON.stringify({ nftables: [{ metainfo: { json_schema_version: 2 } }] }))).toThrow(/schema version 2 is not supported/);
  });

  it("a 50 MB ruleset is read in bounded time and still decided", () => {
    const items: Obj[] = [table("inet", "big"), base("inet", "big", "input", "input", 0, "drop")];
    for (let i = 0; i < 150_000; i++) items.push(rule("inet", "big", "input", m(udp("dport"), 1 + (i % 40000)), m(ip6("saddr"), { prefix: { addr: "2001:db8:ffff::", len: 48 } }), { counter: { packets: 0, bytes: 0 } }, ACCEPT));
    items.push(rule("inet", "big", "input", m(udp("dport"), 41641), ACCEPT));
    const json = docOf(items);
    expect(json.length).toBeGreaterThan(50_000_000);
    const started = Date.now();
    const d = verdict(json);
    expect(d.verdict).toBe("accept");
    expect(Date.now() - started).toBeLessThan(60_000);
    // The same size of garbage is an error, not a crash.
    expect(() => parseNftJson(`{"nftables": [${"[".repeat(100_000)}${"\u0000garbage".repeat(6_000_000)}`)).toThrow(/not valid JSON/);
  }, 120_000);
});
