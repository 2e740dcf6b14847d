// Mutated inputs against the HuJSON parser and the policy reader: on plain JSON the parser agrees
// with JSON.parse (same value, or both refuse), and no input makes either throw anything but
// their own errors. Seeded (HUJSON_SEED=N replays a run).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HujsonError, parseHujson, plain } from "../../agent/policy/hujson";
import { parsePolicy, PolicyError } from "../../agent/policy/policy-file";

const SEED = Number(process.env.HUJSON_SEED ?? Date.now() % 1_000_000);
const DIR = join(__dirname, "..", "fixtures", "policy");
const FIXTURES = readdirSync(DIR).map((f) => readFileSync(join(DIR, f), "utf8"));

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const PIECES = ['"', "\\", ",", ":", "{", "}", "[", "]", "/", "*", "\n", " ", "0", "-", "e", "t", "n", "\u0001", "'", ".", "x"];

function mutate(text: string, random: () => number): string {
  const at = Math.floor(random() * (text.length + 1));
  switch (Math.floor(random() * 4)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + PIECES[Math.floor(random() * PIECES.length)] + text.slice(at);
    case 2:
      return text.slice(0, at);
    default:
      return text.slice(0, at) + PIECES[Math.floor(random() * PIECES.length)] + text.slice(at + 1);
  }
}

/** The fixtures as plain JSON: comments and trailing commas removed by JSON's own round trip. */
const PLAIN = FIXTURES.flatMap((t) => {
  try {
    return [JSON.stringify(plain(parseHujson(t)), null, 1)];
  } catch {
    return [];
  }
});

describe(`HuJSON fuzz (HUJSON_SEED=${SEED})`, () => {
  it("agrees with JSON.parse on mutated plain JSON", () => {
    const random = rng(SEED);
    for (let i = 0; i < 3000; i++) {
      const text = mutate(mutate(PLAIN[i % PLAIN.length], random), random);
      let expected: unknown;
      let jsonFails = false;
      try {
        expected = JSON.parse(text);
      } catch {
        jsonFails = true;
      }
      let got: unknown;
      let ours: unknown = null;
      try {
        got = plain(parseHujson(text));
      } catch (error) {
        ours = error;
      }
      if (ours && !(ours instanceof HujsonError)) throw new Error(`input ${i}: ${String(ours)}\n${text}`);
      // What HuJSON adds to JSON: a mutation can make a trailing comma or a comment, which JSON refuses.
      if (jsonFails && !ours) {
        expect(/,\s*[\]}]|\/[/*]/.test(text), `accepted what JSON refuses, input ${i}:\n${text}`).toBe(true);
        continue;
      }
      expect(!!ours, `input ${i}: JSON ${jsonFails ? "refuses" : "accepts"}, we ${ours ? `refuse (${(ours as Error).message})` : "accept"}:\n${text}`).toBe(jsonFails);
      if (!jsonFails) expect(got).toEqual(expected);
    }
  });

  it("never throws anything but a PolicyError on mutated policies", () => {
    const random = rng(SEED + 1);
    for (let i = 0; i < 3000; i++) {
      const text = mutate(mutate(FIXTURES[i % FIXTURES.length], random), random);
      try {
        parsePolicy(text);
      } catch (error) {
        if (!(error instanceof PolicyError)) throw new Error(`input ${i}: ${String(error)}\n${text}`);
        expect(error.line).toBeGreaterThan(0);
        expect(error.column).toBeGreaterThan(0);
      }
    }
  });
});
