// Addresses in rulesets are read by a direct reader for the plain forms nft prints, and by
// ipaddr.js for anything else: the direct reader must give ipaddr.js's value wherever it answers,
// and leave every other spelling (and every invalid one) to it.
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { addressValue, plainIpv4, plainIpv6 } from "../../agent/firewall/packet";
import { mulberry32 } from "../integration/firewall-generate";

const reference = (text: string, kind: "ipv4" | "ipv6"): bigint | null => {
  const valid = kind === "ipv4" ? ipaddr.IPv4.isValidFourPartDecimal(text) : ipaddr.IPv6.isValid(text);
  if (!valid) return null;
  const bytes = ipaddr.parse(text).toByteArray();
  if (bytes.length !== (kind === "ipv4" ? 4 : 16)) return null;
  return bytes.reduce((v, b) => (v << 8n) | BigInt(b), 0n);
};

describe("address reading", () => {
  it("reads the plain forms nft prints", () => {
    expect(plainIpv6("::")).toBe(0n);
    expect(plainIpv6("::1")).toBe(1n);
    expect(plainIpv6("2001:db8::")).toBe(0x20010db8n << 96n);
    expect(plainIpv6("2001:DB8:0:0:0:0:0:1")).toBe((0x20010db8n << 96n) | 1n);
    expect(plainIpv6("fe80::1:2")).toBe((0xfe80n << 112n) | 0x10002n);
    expect(plainIpv4("192.0.2.255")).toBe(0xc00002ffn);
    expect(plainIpv4("0.0.0.0")).toBe(0n);
    expect(plainIpv4("255.255.255.255")).toBe(0xffffffffn);
  });

  it("leaves other spellings to ipaddr.js, which still reads the valid ones", () => {
    for (const text of ["::ffff:192.0.2.1", "fe80::1%eth0", "1:2:3:4:5:6:7:8::", "1::2::3", ":::", "12345::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "g::1", ""]) {
      expect(plainIpv6(text), text).toBeNull();
      expect(addressValue(text, "ipv6"), text).toBe(reference(text, "ipv6"));
    }
    expect(addressValue("::ffff:192.0.2.1", "ipv6")).toBe(0xffffc0000201n);
    for (const text of ["192.0.2.01", "256.0.0.1", "1.2.3", "1.2.3.4.5", "0x1.2.3.4", "1.2.3.4 ", "10"]) {
      expect(plainIpv4(text), text).toBeNull();
      expect(addressValue(text, "ipv4"), text).toBe(reference(text, "ipv4"));
    }
  });

  it("random spellings: whatever the direct reader answers, ipaddr.js answers the same", () => {
    const rng = mulberry32(41641);
    const int = (n: number) => Math.floor(rng() * n);
    const pieces = ["0", "1", "db8", "2001", "ffff", "FFFF", "00000", "", ":", "::", "g", "1.2.3.4"];
    let direct = 0;
    for (let i = 0; i < 10_000; i++) {
      // Half near-valid (hex groups, maybe one gap where `::` goes), half anything.
      const groups = Array.from({ length: 1 + int(9) }, () => (int(20) ? int(0x10000).toString(16).padStart(int(2) ? 1 : 4 + int(2), "0") : pieces[int(pieces.length)]));
      if (int(2)) groups.splice(int(groups.length + 1), 0, "");
      const text = i % 2 ? groups.join(":").replace(/^:(?!:)/, "::").replace(/([^:]):$/, "$1::") : Array.from({ length: 1 + int(10) }, () => pieces[int(pieces.length)]).join(int(4) ? ":" : "");
      const fast = plainIpv6(text);
      if (fast !== null) direct++;
      expect(addressValue(text, "ipv6"), text).toBe(reference(text, "ipv6"));
      if (fast !== null) expect(fast, text).toBe(reference(text, "ipv6"));
      const v4 = Array.from({ length: 2 + int(4) }, () => [String(int(300)), "0", "00", "255", "256", "a"][int(6)]).join(".");
      expect(addressValue(v4, "ipv4"), v4).toBe(reference(v4, "ipv4"));
    }
    // The generator must reach the direct reader often, or the comparison proves little.
    expect(direct).toBeGreaterThan(500);
  });
});
