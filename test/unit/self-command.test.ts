// The command a fix names to run edge-agent again: what the person typed to start it.
import { describe, expect, it } from "vitest";
import { selfCommand } from "../../agent/self-command";

describe("selfCommand", () => {
  it("is npx edge-agent from a checkout's launcher, edge-agent as the packages install it", () => {
    expect(selfCommand("/home/me/edge-agent/bin/edge-agent.js")).toBe("npx edge-agent");
    expect(selfCommand("/usr/bin/edge-agent")).toBe("edge-agent");
    expect(selfCommand("/home/me/edge-agent/dist/bundle/edge-agent")).toBe("edge-agent");
    expect(selfCommand(undefined)).toBe("edge-agent");
  });
});
