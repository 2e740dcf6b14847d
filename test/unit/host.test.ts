// The host probe: the model string from firmware facts, the OS name from os-release, and the
// real probe on this machine.
import { readFileSync } from "node:fs";
import { arch, hostname, release } from "node:os";
import { describe, expect, it } from "vitest";
import { describeModel, osName, probeHost } from "../../agent/probes/host";

describe("describeModel", () => {
  it("shows a Raspberry Pi as one (device tree model, NUL-terminated)", () => {
    expect(describeModel({ deviceTree: "Raspberry Pi 4 Model B Rev 1.4\0" })).toBe("Raspberry Pi 4 Model B Rev 1.4");
    expect(describeModel({ deviceTree: "Raspberry Pi 5 Model B Rev 1.0\0", manufacturer: "ignored" })).toBe("Raspberry Pi 5 Model B Rev 1.0");
  });

  it("joins DMI maker and product, without repeating the maker", () => {
    expect(describeModel({ manufacturer: "Dell Inc.\n", product: "PowerEdge R640\n" })).toBe("Dell Inc. PowerEdge R640");
    expect(describeModel({ manufacturer: "QEMU", product: "QEMU Standard PC (Q35 + ICH9, 2009)" })).toBe("QEMU Standard PC (Q35 + ICH9, 2009)");
    expect(describeModel({ manufacturer: "Hetzner", product: "vServer" })).toBe("Hetzner vServer");
  });

  it("skips the placeholders firmware leaves behind", () => {
    expect(describeModel({ manufacturer: "ASUS", product: "To be filled by O.E.M." })).toBe("ASUS");
    expect(describeModel({ manufacturer: "Gigabyte", product: "Default string" })).toBe("Gigabyte");
    expect(describeModel({ manufacturer: "To be filled by O.E.M.", product: "X570" })).toBe("X570");
    expect(describeModel({ manufacturer: "", product: "System Product Name" })).toBe("unknown");
  });

  it("names the container when there is no firmware information, else unknown", () => {
    expect(describeModel({ container: "Docker container" })).toBe("Docker container");
    expect(describeModel({})).toBe("unknown");
  });
});

describe("osName", () => {
  it("prefers PRETTY_NAME, unquoted", () => {
    expect(osName('NAME="Debian GNU/Linux"\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')).toBe("Debian GNU/Linux 12 (bookworm)");
  });

  it("falls back to NAME and VERSION_ID, and to null", () => {
    expect(osName("NAME=Alpine\nVERSION_ID=3.20.1\n")).toBe("Alpine 3.20.1");
    expect(osName("")).toBeNull();
    expect(osName(null)).toBeNull();
  });
});

describe("probeHost on this machine", () => {
  it("reports the host name, kernel, architecture and os-release name", async () => {
    const host = await probeHost();
    expect(host).toMatchObject({ state: "ok", hostname: hostname(), kernel: release(), arch: arch() });
    expect(host.os).toBe(osName(readFileSync("/etc/os-release", "utf8")));
    expect(host.model).not.toBe("");
  });
});
