import { describe, expect, it } from "vitest";
import { canonicalAddress, checkIdentity, inPrefixes, type Claim, type IdentityPolicy } from "../../agent/receiver/identity";

const claim: Claim = { tailnetName: "host1.example-tailnet.ts.net", hostName: "host1", addresses: ["100.101.102.103", "fd7a:115c:a1e0::1234:5678"] };
const unavailable = { kind: "unavailable" as const, error: "no socket" };
const safe: IdentityPolicy = { allowSources: [], trustClaimedAddresses: false };
const relaxed: IdentityPolicy = { allowSources: [], trustClaimedAddresses: true };

describe("identity checks", () => {
  it("accepts the node tailscaled names for the source", () => {
    expect(checkIdentity("100.101.102.103", claim, safe, { kind: "node", name: "HOST1.example-tailnet.ts.net.", addresses: [] }, null)).toEqual({ ok: true, how: "whois" });
  });

  it("refuses a node claiming to be another one, naming both, even from the bound address", () => {
    const v = checkIdentity("100.90.1.2", claim, safe, { kind: "node", name: "laptop.example-tailnet.ts.net.", addresses: [] }, "100.90.1.2");
    expect(v).toMatchObject({ ok: false, reason: "identity_mismatch" });
    expect(!v.ok && v.detail).toMatch(/100\.90\.1\.2 is tailnet node laptop\.example-tailnet\.ts\.net.*claims.*host1/);
  });

  it("refuses a source tailscaled does not know, except loopback", () => {
    expect(checkIdentity("192.0.2.9", claim, safe, { kind: "no-match" }, null)).toMatchObject({ ok: false, reason: "identity_mismatch" });
    expect(checkIdentity("::1", claim, safe, { kind: "no-match" }, null)).toEqual({ ok: true, how: "loopback" });
  });

  it("without tailscaled, by default refuses a new node whatever addresses it claims", () => {
    const v = checkIdentity("100.101.102.103", claim, safe, unavailable, null);
    expect(v).toMatchObject({ ok: false, reason: "unverified" });
    expect(!v.ok && v.detail).toMatch(/receiver\.allowSources/);
  });

  it("without tailscaled, accepts a known node only from the source it was last accepted from", () => {
    expect(checkIdentity("::ffff:100.101.102.103", claim, safe, unavailable, "100.101.102.103")).toEqual({ ok: true, how: "binding" });
    expect(checkIdentity("100.101.102.104", claim, relaxed, unavailable, "100.101.102.103")).toMatchObject({ ok: false, reason: "identity_mismatch" });
  });

  it("trustClaimedAddresses relaxes it: a new node's source among its claimed addresses (IPv4-mapped sources too)", () => {
    expect(checkIdentity("::ffff:100.101.102.103", claim, relaxed, unavailable, null)).toEqual({ ok: true, how: "claimed-address" });
    expect(checkIdentity("fd7a:115c:a1e0:0::1234:5678", claim, relaxed, unavailable, null)).toEqual({ ok: true, how: "claimed-address" });
    expect(checkIdentity("100.101.102.104", claim, relaxed, unavailable, null)).toMatchObject({ ok: false, reason: "unverified" });
  });

  it("applies allowSources before anything else, and vouches for a new node's first source", () => {
    expect(checkIdentity("100.101.102.103", claim, { allowSources: ["fd7a:115c:a1e0::/48"], trustClaimedAddresses: false }, unavailable, null)).toMatchObject({ ok: false, reason: "source_not_allowed" });
    expect(checkIdentity("100.101.102.103", claim, { allowSources: ["100.64.0.0/10"], trustClaimedAddresses: false }, unavailable, null)).toEqual({ ok: true, how: "allowed-source" });
    expect(checkIdentity("100.101.102.9", claim, { allowSources: ["100.64.0.0/10"], trustClaimedAddresses: false }, unavailable, "100.101.102.103")).toMatchObject({ ok: false, reason: "identity_mismatch" });
    expect(inPrefixes("::ffff:100.64.1.1", ["100.64.0.0/10"])).toBe(true);
    expect(canonicalAddress("[fd7a:115c:a1e0:0:0:0:1234:5678]")).toBe("fd7a:115c:a1e0::1234:5678");
  });

  it("without tailscaled, a source already bound to one node cannot introduce another", () => {
    const allow = { allowSources: ["100.64.0.0/10"], trustClaimedAddresses: false };
    const v = checkIdentity("100.101.102.103", claim, allow, unavailable, null, "laptop");
    expect(v).toMatchObject({ ok: false, reason: "identity_mismatch" });
    expect(!v.ok && v.detail).toMatch(/already speaks for node laptop/);
    expect(checkIdentity("100.101.102.103", claim, relaxed, unavailable, null, "laptop")).toMatchObject({ ok: false, reason: "identity_mismatch" });
    // whois and loopback decide by themselves.
    expect(checkIdentity("100.101.102.103", claim, allow, { kind: "node", name: "host1.example-tailnet.ts.net", addresses: [] }, null, "laptop")).toEqual({ ok: true, how: "whois" });
    expect(checkIdentity("127.0.0.1", claim, safe, unavailable, null, "laptop")).toEqual({ ok: true, how: "loopback" });
  });
});
