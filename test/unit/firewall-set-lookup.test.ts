// Set and map lookups: an index built for a set looked up often must answer exactly like
// scanning the elements in order (prefix and range boundaries, exact values, concatenations,
// names, overlaps), and a rule reading a big set through `!=` or a verdict map must not change
// its verdict once the index takes over.
import { describe, expect, it } from "vitest";
import { evaluate } from "../../agent/firewall/evaluate";
import { parseNftJson } from "../../agent/firewall/nft-json";
import { addressValue, makePacket } from "../../agent/firewall/packet";
import type { Component, Element } from "../../agent/firewall/ruleset";
import { buildIndex, findElement, INDEX_AFTER_LOOKUPS, INDEX_MIN_ELEMENTS, lookupIndex, scanElements, type Value } from "../../agent/firewall/set-lookup";
import { mulberry32 } from "../integration/firewall-generate";

const v4 = (a: string) => addressValue(a, "ipv4")!;
const prefix4 = (p: string): Component => {
  const [a, len] = p.split("/");
  const host = (1n << BigInt(32 - Number(len))) - 1n;
  return { lo: v4(a) & ~host, hi: (v4(a) & ~host) | host };
};
const point = (n: bigint | number): Component => ({ lo: BigInt(n), hi: BigInt(n) });
const range = (lo: number, hi: number): Component => ({ lo: BigInt(lo), hi: BigInt(hi) });
const name = (n: string): Component => (n.endsWith("*") ? { name: n.slice(0, -1), wildcard: true } : { name: n, wildcard: false });

/** Every answer of the built index, checked against the scan it replaces. */
function indexed(elements: Element[], values: Value[]): number {
  const answer = lookupIndex(buildIndex(elements), elements, values);
  expect(answer).toBe(scanElements(elements, values));
  return answer;
}

describe("set lookup index", () => {
  it("interval sets: prefix boundaries are inside, one past them is not", () => {
    const set: Element[] = [[prefix4("198.51.100.0/24")], [prefix4("192.0.2.0/24")], [prefix4("203.0.113.7/32")], [prefix4("10.0.0.0/8")]];
    expect(buildIndex(set).kind).toBe("intervals");
    expect(indexed(set, [v4("192.0.2.0")])).toBe(1);
    expect(indexed(set, [v4("192.0.2.255")])).toBe(1);
    expect(indexed(set, [v4("192.0.1.255")])).toBe(-1);
    expect(indexed(set, [v4("192.0.3.0")])).toBe(-1);
    expect(indexed(set, [v4("203.0.113.7")])).toBe(2);
    expect(indexed(set, [v4("203.0.113.6")])).toBe(-1);
    expect(indexed(set, [v4("203.0.113.8")])).toBe(-1);
    expect(indexed(set, [v4("10.255.255.255")])).toBe(3);
    expect(indexed(set, [v4("0.0.0.0")])).toBe(-1);
    expect(indexed(set, [v4("255.255.255.255")])).toBe(-1);
  });

  it("port ranges and single ports mixed: both ends of each range", () => {
    const set: Element[] = [[range(1000, 2000)], [point(3000)], [range(4000, 4100)], [point(0)], [range(65000, 65535)]];
    for (const [port, at] of [[999, -1], [1000, 0], [2000, 0], [2001, -1], [2999, -1], [3000, 1], [3001, -1], [4100, 2], [0, 3], [1, -1], [65535, 4]] as const)
      expect(indexed(set, [BigInt(port)]), `port ${port}`).toBe(at);
  });

  it("overlapping intervals are scanned, so the first element in the set's order wins", () => {
    const set: Element[] = [[range(15, 30)], [range(10, 20)], [range(40, 50)]];
    expect(buildIndex(set).kind).toBe("scan");
    expect(indexed(set, [16n])).toBe(0);
    expect(indexed(set, [12n])).toBe(1);
    expect(indexed(set, [35n])).toBe(-1);
    // Touching ends overlap too (a range ending where the next starts).
    expect(buildIndex([[range(1, 5)], [range(5, 9)]]).kind).toBe("scan");
  });

  it("exact elements are hashed; a repeated element answers with its first position", () => {
    const set: Element[] = [[point(53)], [point(41641)], [point(53)], [point(161)]];
    expect(buildIndex(set).kind).toBe("exact");
    expect(indexed(set, [53n])).toBe(0);
    expect(indexed(set, [161n])).toBe(3);
    expect(indexed(set, [54n])).toBe(-1);
  });

  it("a value of the wrong type is in no set: a name in a number set, a number in a name set", () => {
    const numbers: Element[] = [[point(1)], [range(5, 9)]];
    expect(indexed(numbers, ["1"])).toBe(-1);
    expect(indexed([[point(1)], [point(2)]], ["1"])).toBe(-1);
    const names: Element[] = [[name("eth0")], [name("wg0")]];
    expect(buildIndex(names).kind).toBe("exact");
    expect(indexed(names, [0n])).toBe(-1);
    expect(indexed(names, ["wg0"])).toBe(1);
    expect(indexed(names, ["wg"])).toBe(-1);
  });

  it("interface wildcards are scanned (a prefix of the name matches)", () => {
    const names: Element[] = [[name("eth*")], [name("wg0")]];
    expect(buildIndex(names).kind).toBe("scan");
    expect(indexed(names, ["eth12"])).toBe(0);
    expect(indexed(names, ["wg0"])).toBe(1);
    expect(indexed(names, ["wg1"])).toBe(-1);
  });

  it("concatenations: exact tuples hashed without collisions, ranges inside a tuple scanned", () => {
    const exact: Element[] = [[point(v4("192.0.2.1")), point(53)], [point(v4("192.0.2.1")), point(41641)], [name("eth0"), point(53)], [name("1"), point(2)]];
    expect(buildIndex(exact).kind).toBe("exact");
    expect(indexed(exact, [v4("192.0.2.1"), 41641n])).toBe(1);
    expect(indexed(exact, [v4("192.0.2.1"), 161n])).toBe(-1);
    expect(indexed(exact, ["eth0", 53n])).toBe(2);
    // The name "1" and the number 1 are different components.
    expect(indexed(exact, [1n, 2n])).toBe(-1);
    expect(indexed(exact, ["1", 2n])).toBe(3);
    // A tuple of the wrong length matches nothing.
    expect(indexed(exact, [v4("192.0.2.1")])).toBe(-1);
    const mixed: Element[] = [[prefix4("192.0.2.0/24"), point(53)], [prefix4("192.0.2.0/24"), range(1000, 2000)]];
    expect(buildIndex(mixed).kind).toBe("scan");
    expect(indexed(mixed, [v4("192.0.2.9"), 1500n])).toBe(1);
    expect(indexed(mixed, [v4("192.0.3.9"), 53n])).toBe(-1);
  });

  it("random sets: the index always gives the scan's answer", () => {
    const rng = mulberry32(20261128);
    const int = (n: number) => Math.floor(rng() * n);
    for (let round = 0; round < 200; round++) {
      const shape = round % 4;
      const elements: Element[] = [];
      let at = int(50);
      for (let i = 0; i < 5 + int(60); i++) {
        if (shape === 0) { const lo = at + int(20); const hi = lo + int(10); elements.push([range(lo, hi)]); at = hi + 1 + int(3); }
        else if (shape === 1) elements.push([point(int(100))]);
        else if (shape === 2) elements.push([point(int(8)), int(2) ? name(`eth${int(4)}`) : point(int(4))]);
        else elements.push([range(int(100), 100 + int(50))]);
      }
      for (let q = 0; q < 40; q++) {
        const values: Value[] = shape === 2 ? [BigInt(int(9)), int(2) ? `eth${int(5)}` : BigInt(int(5))] : [BigInt(int(400))];
        indexed(elements, values);
        expect(findElement(elements, values)).toBe(scanElements(elements, values));
      }
    }
  });
});

describe("big sets through the evaluator", () => {
  // An interval set with more elements than a scan is kept for, read by `!=` and by a verdict map.
  const blocked = Array.from({ length: INDEX_MIN_ELEMENTS * 4 }, (_, i) => ({ prefix: { addr: `10.${i}.0.0`, len: 16 } }));
  const ports = Array.from({ length: INDEX_MIN_ELEMENTS * 2 }, (_, i) => [2000 + i * 10, i % 2 ? { drop: null } : { accept: null }]);
  const json = JSON.stringify({ nftables: [
    { metainfo: { json_schema_version: 1 } },
    { table: { family: "inet", name: "t", handle: 1 } },
    { set: { family: "inet", table: "t", name: "blocked", type: "ipv4_addr", flags: ["interval"], elem: blocked } },
    { map: { family: "inet", table: "t", name: "ports", type: "inet_service", map: "verdict", elem: ports } },
    { chain: { family: "inet", table: "t", name: "input", handle: 2, type: "filter", hook: "input", prio: 0, policy: "drop" } },
    { rule: { family: "inet", table: "t", chain: "input", handle: 3, expr: [{ match: { op: "!=", left: { payload: { protocol: "ip", field: "saddr" } }, right: "@blocked" } }, { match: { op: "==", left: { payload: { protocol: "udp", field: "dport" } }, right: 41641 } }, { accept: null }] } },
    { rule: { family: "inet", table: "t", chain: "input", handle: 4, expr: [{ vmap: { key: { payload: { protocol: "udp", field: "dport" } }, data: "@ports" } }] } },
  ] });

  it("answers the same before and after the set is indexed", () => {
    const ruleset = parseNftJson(json);
    const ask = (saddr: string, dport: number) => evaluate(ruleset, makePacket({ direction: "in", family: "ipv4", proto: "udp", saddr, daddr: "192.0.2.1", sport: 41641, dport, iif: "eth0" })).verdict;
    // Enough rounds that both sets pass INDEX_AFTER_LOOKUPS and are then answered by the index.
    for (let round = 0; round < INDEX_AFTER_LOOKUPS + 2; round++) {
      expect(ask("10.0.0.1", 41641), `round ${round}`).toBe("drop"); // inside the first prefix
      expect(ask("10.5.0.0", 41641)).toBe("drop"); // a prefix's first address
      expect(ask(`10.${INDEX_MIN_ELEMENTS * 4 - 1}.255.255`, 41641)).toBe("drop"); // last prefix, last address
      expect(ask(`10.${INDEX_MIN_ELEMENTS * 4}.0.0`, 41641)).toBe("accept"); // one past the last prefix
      expect(ask("9.255.255.255", 41641)).toBe("accept");
      expect(ask("192.0.2.9", 2000)).toBe("accept"); // the map's first element
      expect(ask("192.0.2.9", 2010)).toBe("drop");
      expect(ask("192.0.2.9", 2000 + (INDEX_MIN_ELEMENTS * 2 - 2) * 10)).toBe("accept");
      expect(ask("192.0.2.9", 2005)).toBe("drop"); // in no element: the policy
    }
  });
});
