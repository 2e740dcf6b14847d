// The host probe: the hardware model string, and the real probe on this machine.
import { arch, hostname, release } from "node:os";
import { describe, expect, it } from "vitest";
import { describeModel, probeHost } from "../../agent/probes/host";

describe("describeModel", () => {
  it("shows a Raspberry Pi as one", () => {
    expect(describeModel({ manufacturer: "Raspberry Pi Foundation", model: "BCM2835", raspberry: { type: "4B" } })).toBe("Raspberry Pi 4B");
  });

  it("joins maker and model, without repeating the maker", () => {
    expect(describeModel({ manufacturer: "Dell Inc.", model: "PowerEdge R640" })).toBe("Dell Inc. PowerEdge R640");
    expect(describeModel({ manufacturer: "QEMU", model: "QEMU Standard PC (Q35 + ICH9, 2009)" })).toBe("QEMU Standard PC (Q35 + ICH9, 2009)");
  });

  it("falls back to the maker when the firmware left a placeholder", () => {
    expect(describeModel({ manufacturer: "ASUS", model: "To be filled by O.E.M." })).toBe("ASUS");
    expect(describeModel({ manufacturer: "Gigabyte", model: "Default string" })).toBe("Gigabyte");
    expect(describeModel({ manufacturer: "", model: "System Product Name" })).toBe("unknown");
    expect(describeModel({})).toBe("unknown");
  });
});

describe("probeHost on this machine", () => {
  it("reports the host name, kernel and architecture Node sees, and some OS and model", async () => {
    const host = await probeHost();
    expect(host).toMatchObject({ state: "ok", hostname: hostname(), kernel: release(), arch: arch() });
    expect(host.os).not.toBe("");
    expect(host.model).not.toBe("");
  });
});
