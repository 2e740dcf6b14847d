// The snmpd probe against Debian's real snmpd on a free unprivileged port with a config this test
// writes: up (sysDescr read), wrong community (down, with the reason), a v3 user (authPriv,
// SHA-256/AES), nobody listening (fails at once), and the Tailscale IP check.
// Sources in process: one probe against the real daemon, case by case; the packaged program's view
// of the same service is in status.test.ts and doctor.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromObject, type Config } from "../../agent/config";
import { probeSnmpd } from "../../agent/probes/snmpd";
import { freeUdpPort } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { startSnmpd, type Snmpd } from "../helpers/snmpd";

const TIMEOUT = 1500;
type SnmpdConfig = Config["probes"]["snmpd"];
const cfg = (snmpd: Record<string, unknown>): SnmpdConfig => configFromObject({ probes: { snmpd } }, null).probes.snmpd;

describeWith({ binaries: ["snmpd"] }, "snmpd probe (real snmpd)", () => {
  let snmpd: Snmpd;
  beforeAll(async () => {
    snmpd = await startSnmpd({
      community: "edgetest",
      extra: ['createUser edgemon SHA-256 "auth-pass-123" AES "priv-pass-123"', "rouser edgemon priv"],
    });
  });
  afterAll(() => snmpd?.stop());

  it("up: sysDescr and sysUpTime read with the community", async () => {
    const state = await probeSnmpd(cfg({ port: snmpd.port, community: "edgetest" }), [], TIMEOUT);
    expect(state).toMatchObject({ target: `127.0.0.1:${snmpd.port}`, up: true, sysDescr: "edge-agent test snmpd", tailnetReachable: null });
    expect(state.sysUpTimeSeconds).toBeGreaterThanOrEqual(0);
    expect(state.sysUpTimeSeconds).toBeLessThan(600);
    expect(state.error).toBeUndefined();
  });

  it("up over IPv6 loopback", async () => {
    const state = await probeSnmpd(cfg({ host: "::1", port: snmpd.port, community: "edgetest" }), [], TIMEOUT);
    expect(state).toMatchObject({ target: `[::1]:${snmpd.port}`, up: true, sysDescr: "edge-agent test snmpd" });
  });

  it("wrong community: down, with the reason (snmpd stays silent)", async () => {
    const state = await probeSnmpd(cfg({ port: snmpd.port, community: "wrong-community" }), [], TIMEOUT);
    expect(state).toMatchObject({ up: false, sysDescr: null });
    expect(state.error).toBe(
      `no answer from snmpd at 127.0.0.1:${snmpd.port} (timeout): it is down, or it does not accept the configured community (probes.snmpd.community; snmpd ignores requests with an unknown community)`,
    );
    expect(state.error).not.toContain("wrong-community");
    expect(state.code).toBe("no-answer");
  });

  it("a v3 user with authPriv, SHA-256 and AES", async () => {
    const user = { name: "edgemon", authProtocol: "sha256", authKey: "auth-pass-123", privProtocol: "aes", privKey: "priv-pass-123" };
    const state = await probeSnmpd(cfg({ port: snmpd.port, version: 3, user }), [], TIMEOUT);
    expect(state).toMatchObject({ up: true, sysDescr: "edge-agent test snmpd" });
  });

  const v3 = (over: Record<string, unknown>) => cfg({ port: snmpd.port, version: 3, user: { name: "edgemon", authProtocol: "sha256", authKey: "auth-pass-123", privProtocol: "aes", privKey: "priv-pass-123", ...over } });

  it("a v3 user with the wrong auth key: down, naming what to fix, never the key", async () => {
    const state = await probeSnmpd(v3({ authKey: "not-the-key" }), [], TIMEOUT);
    expect(state).toMatchObject({ up: false, error: `snmpd at 127.0.0.1:${snmpd.port} rejected user "edgemon": wrong authKey or authProtocol (probes.snmpd.user)` });
    expect(state.error).not.toContain("not-the-key");
    expect(state.code).toBe("access-denied");
  });

  it("a v3 user with the wrong auth protocol: the same reason", async () => {
    const state = await probeSnmpd(v3({ authProtocol: "sha" }), [], TIMEOUT);
    expect(state.error).toBe(`snmpd at 127.0.0.1:${snmpd.port} rejected user "edgemon": wrong authKey or authProtocol (probes.snmpd.user)`);
    expect(state.code).toBe("access-denied");
  });

  it("an unknown v3 user: down, naming the user", async () => {
    const state = await probeSnmpd(v3({ name: "nobody" }), [], TIMEOUT);
    expect(state).toMatchObject({ up: false, error: `snmpd at 127.0.0.1:${snmpd.port} does not know user "nobody": create it in snmpd (createUser, rouser), or fix probes.snmpd.user.name` });
    expect(state.code).toBe("access-denied");
  });

  it("a wrong privacy key: snmpd stays silent, and the reason says what may be wrong", async () => {
    const state = await probeSnmpd(v3({ privKey: "wrong-priv-key" }), [], TIMEOUT);
    expect(state.up).toBe(false);
    expect(state.error).toMatch(/^no answer from snmpd at 127\.0\.0\.1:\d+ \(timeout\): it is down, or it cannot decrypt the request \(probes\.snmpd\.user\.privKey/);
  });

  it("authNoPriv for a user snmpd wants encrypted (rouser ... priv): refused, with the reason", async () => {
    const state = await probeSnmpd(v3({ privProtocol: null, privKey: null }), [], TIMEOUT);
    expect(state.up).toBe(false);
    expect(state.error).toMatch(/answered but does not let user "edgemon" read sysDescr\.0 and sysUpTime\.0/);
    expect(state.code).toBe("access-denied");
  });

  it("nobody listening on the port: down at once, saying so", async () => {
    const port = await freeUdpPort();
    const started = Date.now();
    const state = await probeSnmpd(cfg({ port }), [], 10_000);
    // With a 10 s timeout, an answer well before it shows the probe did not wait for it.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(state).toMatchObject({ up: false });
    expect(state.error).toBe(`nothing listens on UDP port ${port} at 127.0.0.1: snmpd is not running, or not on this address (agentAddress in snmpd.conf)`);
    expect(state.code).toBe("not-listening");
  });

  describe("on the Tailscale IP (a second loopback address stands in for it)", () => {
    it("false, with the reason, when snmpd listens only on 127.0.0.1 and ::1", async () => {
      const state = await probeSnmpd(cfg({ port: snmpd.port, community: "edgetest" }), ["127.0.0.2"], TIMEOUT);
      expect(state).toMatchObject({ up: true, tailnetReachable: false });
      expect(state.tailnetError).toBe(`nothing listens on UDP port ${snmpd.port} at 127.0.0.2: snmpd is not running, or not on this address (agentAddress in snmpd.conf)`);
    });

    it("true when snmpd listens there too", async () => {
      const port = await freeUdpPort();
      const both = await startSnmpd({ port, community: "edgetest", listen: [`udp:127.0.0.1:${port}`, `udp:127.0.0.2:${port}`] });
      try {
        const state = await probeSnmpd(cfg({ port, community: "edgetest" }), ["127.0.0.2"], TIMEOUT);
        expect(state).toMatchObject({ up: true, tailnetReachable: true });
      } finally {
        await both.stop();
      }
    });
  });
});

describe("snmpd probe config", () => {
  it("brackets an IPv6 target", async () => {
    const port = await freeUdpPort("::1");
    const state = await probeSnmpd(cfg({ host: "::1", port }), [], TIMEOUT);
    expect(state.target).toBe(`[::1]:${port}`);
    expect(state.error).toMatch(/^nothing listens on UDP port \d+ at ::1/);
  });
});
