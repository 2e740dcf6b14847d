import { describe, expect, it } from "vitest";
import { JsonBytes } from "../../agent/receiver/json-bytes";

describe("JsonBytes", () => {
  it("writes strings and numbers exactly as JSON.stringify does, in UTF-8", () => {
    const strings = ["", "n00001", "tag:monitor", 'say "hi"', "back\\slash", "line\nbreak\ttab\u0001", "prefix → 2001:db8::/64", "emoji 🛰", "lone \ud800 surrogate", "\u007f"];
    const numbers = [0, 7, 10, 41641, 1796292373388, Number.MAX_SAFE_INTEGER, -5, 1.5, 1e21, NaN, Infinity];
    const out = new JsonBytes();
    out.byte(0x5b);
    [...strings.map((s) => () => out.string(s)), ...numbers.map((n) => () => out.number(n))].forEach((write, i) => {
      if (i > 0) out.byte(0x2c);
      write();
    });
    out.byte(0x5d);
    expect(out.take().toString("utf8")).toBe(JSON.stringify([...strings, ...numbers]));
    expect(out.length).toBe(0);
  });

  it("grows past its first buffer without losing what it holds", () => {
    const out = new JsonBytes();
    const long = "x".repeat(300_000);
    out.ascii("[");
    out.string(long);
    out.ascii(",");
    out.string(`é${long}`);
    out.ascii("]");
    expect(JSON.parse(out.take().toString("utf8"))).toEqual([long, `é${long}`]);
  });
});
