import { describe, expect, it } from "vitest";
import { canonicalAddress, checkIdentity, inPrefixes, type Claim } from "../../agent/receiver/identity";

const claim: Claim = { tailnetName: "host1.example-tailnet.ts.net", hostName: "host1", addresses: ["100.101.102.103", "fd7a:115c:a1e0::1234:5678"] };
const unavailable = { kind: "unavailable" as const, error: "no socket" };

describe("identity checks", () => {
  it("accepts the node tailscaled names for the source", () => {
    expect(checkIdentity("100.101.102.103", claim, [], { kind: "node", name: "HOST1.example-tailnet.ts.net.", addresses: [] })).toEqual({ ok: true, how: "whois" });
  });

  it("refuses a node claiming to be another one, naming both", () => {
    const v = checkIdentity("100.90.1.2", claim, [], { kind: "node", name: "laptop.example-tailnet.ts.net.", addresses: [] });
    expect(v).toMatchObject({ ok: false, reason: "identity_mismatch" });
    expect(!v.ok && v.detail).toMatch(/100\.90\.1\.2 is tailnet node laptop\.example-tailnet\.ts\.net.*claims.*host1/);
  });

  it("refuses a source tailscaled does not know, except loopback", () => {
    expect(checkIdentity("192.0.2.9", claim, [], { kind: "no-match" })).toMatchObject({ ok: false, reason: "identity_mismatch" });
    expect(checkIdentity("::1", claim, [], { kind: "no-match" })).toEqual({ ok: true, how: "loopback" });
  });

  it("without tailscaled, needs the source among the claimed addresses (IPv4-mapped sources too)", () => {
    expect(checkIdentity("::ffff:100.101.102.103", claim, [], unavailable)).toEqual({ ok: true, how: "claimed-address" });
    expect(checkIdentity("fd7a:115c:a1e0:0::1234:5678", claim, [], unavailable)).toEqual({ ok: true, how: "claimed-address" });
    expect(checkIdentity("100.101.102.104", claim, [], unavailable)).toMatchObject({ ok: false, reason: "identity_mismatch" });
  });

  it("applies allowSources before anything else", () => {
    expect(checkIdentity("100.101.102.103", claim, ["fd7a:115c:a1e0::/48"], unavailable)).toMatchObject({ ok: false, reason: "source_not_allowed" });
    expect(checkIdentity("100.101.102.103", claim, ["100.64.0.0/10"], unavailable)).toEqual({ ok: true, how: "claimed-address" });
    expect(inPrefixes("::ffff:100.64.1.1", ["100.64.0.0/10"])).toBe(true);
    expect(canonicalAddress("[fd7a:115c:a1e0:0:0:0:1234:5678]")).toBe("fd7a:115c:a1e0::1234:5678");
  });
});
