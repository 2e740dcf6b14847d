// The pure half of the addresses probe: /proc/net/if_inet6 parsing, classification, grouping
// into /64s per interface, and the choice of the primary prefix.
import { describe, expect, it } from "vitest";
import { choosePrimary, isGlobal, parseIfInet6, summariseAddresses, type KernelAddress } from "../../agent/probes/addresses";
import type { Ipv6Prefix } from "../../agent/state/node-state";

// Captured from a namespace on this kernel (see test/integration/addresses.test.ts for how).
const IF_INET6 = `20010db8010000013a064f9ca16f5582 03 40 00 01       vc
fd123456789a00010000000000000010 03 40 00 80       vc
20010db8010000010000000000000011 05 40 00 82       va
fd7a115ca1e000000000000012345678 03 80 00 80       vc
2a0104f80c0c00010000000000000010 03 40 00 80       vc
20010db8010000030000000000000010 05 40 00 c0       va
fe80000000000000384e1ffffef66acf 02 40 20 c0       vd
20010db8010000020000000000000010 03 40 00 a0       vc
fe8000000000000010c533fffe823f13 03 40 20 80       vc
20010db8010000010000000000000020 03 40 00 00       vc
00000000000000000000000000000001 01 80 10 80       lo
`;

const ALLOCATION = ["2001:db8:100::/56"];

describe("parseIfInet6", () => {
  const parsed = parseIfInet6(IF_INET6);

  it("reads every line: address, prefix length, interface", () => {
    expect(parsed).toHaveLength(11);
    expect(parsed[0]).toEqual({ address: "2001:db8:100:1:3a06:4f9c:a16f:5582", prefixLength: 64, interface: "vc", flags: ["temporary"] });
    expect(parsed[3]).toEqual({ address: "fd7a:115c:a1e0::1234:5678", prefixLength: 128, interface: "vc", flags: ["permanent"] });
    expect(parsed[10]).toEqual({ address: "::1", prefixLength: 128, interface: "lo", flags: ["permanent"] });
  });

  it("decodes the kernel's flag bits", () => {
    const flags = Object.fromEntries(parsed.map((a) => [a.address, a.flags]));
    expect(flags["2001:db8:100:1::11"]).toEqual(["nodad", "permanent"]);
    expect(flags["2001:db8:100:3::10"]).toEqual(["tentative", "permanent"]);
    expect(flags["2001:db8:100:2::10"]).toEqual(["deprecated", "permanent"]);
    // A stable address with finite lifetimes (from a router advertisement) carries no flag.
    expect(flags["2001:db8:100:1::20"]).toEqual([]);
    expect(parseIfInet6("20010db8000000000000000000000001 02 40 00 0e eth0\n")[0].flags).toEqual(["nodad", "optimistic", "dadfailed"]);
  });

  it("skips lines that are not address lines, and reads ifindex above 255", () => {
    const text = "garbage\n\n2001:db8::1 02 40 00 80 eth0\n20010db8000000000000000000000001 1a2 40 00 80 veth-long-name\n";
    expect(parseIfInet6(text)).toEqual([{ address: "2001:db8::1", prefixLength: 64, interface: "veth-long-name", flags: ["permanent"] }]);
  });
});

describe("isGlobal", () => {
  it("counts global unicast and leaves out link-local, ULA, loopback and Tailscale's range", () => {
    expect(isGlobal("2a01:4f8:c0c:1::10", [])).toBe(true);
    expect(isGlobal("fe80::1", [])).toBe(false);
    expect(isGlobal("fd12:3456:789a:1::10", [])).toBe(false);
    expect(isGlobal("fd7a:115c:a1e0::1234:5678", [])).toBe(false);
    expect(isGlobal("::1", [])).toBe(false);
  });

  it("counts 2001:db8::/32 only inside a configured allocation", () => {
    expect(isGlobal("2001:db8:100:1::20", [])).toBe(false);
    expect(isGlobal("2001:db8:100:1::20", ALLOCATION)).toBe(true);
    expect(isGlobal("2001:db8:999:1::20", ALLOCATION)).toBe(false);
  });

  it("never counts Tailscale's range, even inside an allocation that covers it", () => {
    expect(isGlobal("fd7a:115c:a1e0::1", ["fd00::/8"])).toBe(false);
    expect(isGlobal("fd12::1", ["fd00::/8"])).toBe(true);
  });
});

describe("summariseAddresses", () => {
  it("groups global addresses into /64s per interface, with their flags and allocation", () => {
    const state = summariseAddresses(parseIfInet6(IF_INET6), ALLOCATION);
    const byKey = Object.fromEntries(state.prefixes.map((p) => [`${p.interface} ${p.prefix}`, p]));
    expect(Object.keys(byKey).sort()).toEqual([
      "va 2001:db8:100:1::/64",
      "va 2001:db8:100:3::/64",
      "vc 2001:db8:100:1::/64",
      "vc 2001:db8:100:2::/64",
      "vc 2a01:4f8:c0c:1::/64",
    ]);
    expect(byKey["vc 2001:db8:100:1::/64"]).toEqual({
      prefix: "2001:db8:100:1::/64",
      interface: "vc",
      inAllocation: true,
      addresses: [
        { address: "2001:db8:100:1:3a06:4f9c:a16f:5582", prefixLength: 64, flags: ["temporary"] },
        { address: "2001:db8:100:1::20", prefixLength: 64, flags: [] },
      ],
    });
    expect(byKey["vc 2a01:4f8:c0c:1::/64"].inAllocation).toBe(false);
    expect(byKey["va 2001:db8:100:3::/64"].addresses[0].flags).toContain("tentative");
    expect(byKey["vc 2001:db8:100:2::/64"].addresses[0].flags).toContain("deprecated");
    expect(state.primary).toBe("2001:db8:100:1::/64");
  });

  it("without an allocation: inAllocation is null and documentation addresses are left out", () => {
    const state = summariseAddresses(parseIfInet6(IF_INET6), []);
    expect(state.prefixes).toEqual([
      { prefix: "2a01:4f8:c0c:1::/64", interface: "vc", inAllocation: null, addresses: [{ address: "2a01:4f8:c0c:1::10", prefixLength: 64, flags: ["permanent"] }] },
    ]);
    expect(state.primary).toBe("2a01:4f8:c0c:1::/64");
  });

  it("groups by /64 even when the kernel's prefix length is longer or shorter", () => {
    const addrs: KernelAddress[] = [
      { address: "2a01:4f8:1:2::a", prefixLength: 128, interface: "eth0", flags: ["permanent"] },
      { address: "2a01:4f8:1:2:ffff::b", prefixLength: 56, interface: "eth0", flags: ["permanent"] },
      { address: "2a01:4f8:1:3::c", prefixLength: 56, interface: "eth0", flags: ["permanent"] },
    ];
    const state = summariseAddresses(addrs, []);
    expect(state.prefixes.map((p) => [p.prefix, p.addresses.length])).toEqual([
      ["2a01:4f8:1:2::/64", 2],
      ["2a01:4f8:1:3::/64", 1],
    ]);
  });

  it("has no primary when there is no global address", () => {
    expect(summariseAddresses(parseIfInet6("fe80000000000000384e1ffffef66acf 02 40 20 c0 eth0\n"), [])).toEqual({ state: "ok", prefixes: [], primary: null });
  });
});

describe("choosePrimary", () => {
  const prefix = (p: string, inAllocation: boolean | null, flags: Ipv6Prefix["addresses"][number]["flags"][]): Ipv6Prefix => ({
    prefix: p,
    interface: "eth0",
    inAllocation,
    addresses: flags.map((f, i) => ({ address: p.replace("::/64", `::${i + 1}`), prefixLength: 64, flags: f })),
  });

  it("prefers a usable prefix over a deprecated, tentative or failed one", () => {
    expect(choosePrimary([prefix("2001:db8:1::/64", true, [["deprecated"]]), prefix("2001:db8:2::/64", true, [["temporary"]])])).toBe("2001:db8:2::/64");
    expect(choosePrimary([prefix("2001:db8:1::/64", true, [["tentative"]]), prefix("2001:db8:2::/64", false, [[]])])).toBe("2001:db8:2::/64");
    expect(choosePrimary([prefix("2001:db8:1::/64", true, [["dadfailed"]]), prefix("2001:db8:2::/64", false, [[]])])).toBe("2001:db8:2::/64");
  });

  it("then one inside an allocation", () => {
    expect(choosePrimary([prefix("2a01::/64", false, [["permanent"]]), prefix("2001:db8:1::/64", true, [["temporary"]])])).toBe("2001:db8:1::/64");
  });

  it("then one with a stable (non-temporary) address", () => {
    expect(choosePrimary([prefix("2a01:1::/64", null, [["temporary"]]), prefix("2a01:2::/64", null, [["temporary"], []])])).toBe("2a01:2::/64");
    // A deprecated stable address does not count as stable.
    expect(choosePrimary([prefix("2a01:1::/64", null, [["temporary"], ["deprecated"]]), prefix("2a01:2::/64", null, [["temporary"], []])])).toBe("2a01:2::/64");
  });

  it("then the kernel's order", () => {
    expect(choosePrimary([prefix("2a01:1::/64", null, [[]]), prefix("2a01:2::/64", null, [[]])])).toBe("2a01:1::/64");
  });

  it("is null when no prefix has a usable address, or there are none", () => {
    expect(choosePrimary([prefix("2a01:1::/64", null, [["deprecated"]]), prefix("2a01:2::/64", true, [["tentative"], ["deprecated", "temporary"]])])).toBeNull();
    expect(choosePrimary([])).toBeNull();
  });
});
