import { describe, expect, it } from "vitest";
import { EngineGate } from "../../agent/receiver/engine-gate";

const options = { perSourceRate: 5, perSourceBurst: 3, totalRate: 100, totalBurst: 5, maxEntries: 2 };

describe("engine gate", () => {
  it("lets a source's first few unknown engines through, then refills at its rate", () => {
    const gate = new EngineGate(options, 0);
    expect([1, 2, 3, 4].map(() => gate.admit("a", 0))).toEqual([true, true, true, false]);
    expect(gate.admit("a", 100)).toBe(false);
    expect(gate.admit("a", 200)).toBe(true);
    expect(gate.admit("b", 200)).toBe(true);
  });

  it("caps all sources together", () => {
    const gate = new EngineGate(options, 0);
    const admitted = ["a", "b", "c", "d", "e", "f", "g"].filter((s) => gate.admit(s, 0));
    expect(admitted).toHaveLength(5);
  });

  it("lets authenticated engines pass, remembering a bounded number, never the empty (discovery) one", () => {
    const gate = new EngineGate(options, 0);
    gate.learn("");
    expect(gate.isKnown("")).toBe(false);
    for (const id of ["e1", "e2", "e3"]) gate.learn(id);
    expect(["e1", "e2", "e3"].map((id) => gate.isKnown(id))).toEqual([false, true, true]);
  });
});
