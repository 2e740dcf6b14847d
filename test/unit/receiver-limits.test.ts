import { describe, expect, it } from "vitest";
import { NODE_VALUES_MAX_OCTETS, isTargetName, oversize } from "../../agent/receiver/limits";

describe("receiver limits", () => {
  it("refuses a value over its object's SIZE, counting octets, not characters", () => {
    expect(oversize({ edgeAgentEventSummary: "x".repeat(255), edgeAgentVersion: "v".repeat(64) })).toBeNull();
    expect(oversize({ edgeAgentEventSummary: "x".repeat(256) })).toBe("edgeAgentEventSummary is 256 octets, more than its SIZE of 255");
    expect(oversize({ edgeAgentTailnetState: "é".repeat(33) })).toBe("edgeAgentTailnetState is 66 octets, more than its SIZE of 64");
    expect(oversize({ notAnObject: "x" })).toBe("notAnObject is 1 octets, more than its SIZE of 0");
  });

  it("bounds a node's values at every object's maximum: about 2 KB", () => {
    expect(NODE_VALUES_MAX_OCTETS).toBeGreaterThan(1500);
    expect(NODE_VALUES_MAX_OCTETS).toBeLessThanOrEqual(2048);
  });

  it("takes DNS labels as target names and nothing else", () => {
    for (const ok of ["host1", "a", "web-1", "x".repeat(63)]) expect(isTargetName(ok)).toBe(true);
    for (const bad of ["", "-a", "a-", "x".repeat(64), "localhost:9100", "[fd00::1]:9100", "a b", "new\nline", "Host1", "a.b", "my_host"]) expect(isTargetName(bad)).toBe(false);
  });
});
