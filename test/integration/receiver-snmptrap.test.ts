// Net-SNMP's snmptrap and net-snmp sessions send to the receiver: v2c traps and informs, v3
// authPriv traps from any engine ID and v3 informs; wrong credentials and identity mismatches
// are counted and dropped; other senders' traps are logged by MIB name.
import { afterAll, beforeAll, expect, it } from "vitest";
import snmp from "net-snmp";
import { toNetSnmpUser } from "../../agent/snmp/usm";
import { toVarbinds } from "../../agent/snmp/varbinds";
import { describeWith } from "../helpers/prereqs";
import { freeUdpPort, waitFor } from "../helpers/ports";
import { defaultScenario, startFakeTailscaled, type FakeTailscaled } from "../helpers/tailscaled";
import { COMMUNITY, V3_USER, edgeValues, metricsText, sample, snmptrap, snmptrapVarbindArgs, startTestReceiver, tree, type TestReceiver } from "./receiver-support";

const v3Args = (user = V3_USER.name, authKey = V3_USER.authKey) => ["-v3", "-l", "authPriv", "-u", user, "-a", "SHA-256", "-A", authKey, "-x", "AES", "-X", V3_USER.privKey];

describeWith({ binaries: ["snmptrap"] }, "receiver with Net-SNMP snmptrap", () => {
  let r: TestReceiver;
  const target = () => `127.0.0.1:${r.port}`;
  beforeAll(async () => {
    r = await startTestReceiver();
  });
  afterAll(async () => {
    await r?.stop();
  });

  it("acknowledges a v2c inform and records the node it describes", async () => {
    const values = edgeValues("host1", 1, { edgeAgentScraperPath: "relay", edgeAgentScraperEndpoint: "fra" });
    const result = await snmptrap(["-v2c", "-Ci", "-r", "0", "-t", "3", "-c", COMMUNITY, target(), "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(values)]);
    expect(result).toEqual({ code: 0, stderr: "" });
    const record = r.receiver.fleet.nodes.get("host1");
    expect(record?.values).toMatchObject({ edgeAgentScraperPath: "relay", edgeAgentPrimaryPrefix: "2001:db8:100:1::/64", edgeAgentNotificationSequence: 1 });
    const line = r.logs.find((l) => l.node === "host1" && l.event === "heartbeat");
    expect(line).toMatchObject({ version: "2c", pdu: "inform", trapName: "EDGE-AGENT-MIB::edgeAgentHeartbeat", outcome: "first", identity: "loopback", source: "127.0.0.1" });
    const text = await metricsText(r.metricsUrl);
    expect(sample(text, 'edge_fleet_node_scraper_path{node="host1",path="relay",family="ipv6"}')).toBe(1);
    expect(sample(text, 'edge_fleet_receiver_notifications_received_total{version="2c",pdu="inform",mib="edge_agent"}')).toBe(1);
  });

  it("drops a repeated notification as a duplicate and counts it", async () => {
    const values = edgeValues("host2", 7);
    for (let i = 0; i < 2; i++) expect((await snmptrap(["-v2c", "-Ci", "-r", "0", "-c", COMMUNITY, target(), "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(values)])).code).toBe(0);
    const text = await metricsText(r.metricsUrl);
    expect(sample(text, 'edge_fleet_receiver_notifications_dropped_total{reason="duplicate"}')).toBe(1);
    expect(r.receiver.fleet.nodes.get("host2")?.lastSequence).toBe(7);
  });

  it("logs other senders' v2c traps by MIB name with their varbinds", async () => {
    expect((await snmptrap(["-v2c", "-c", COMMUNITY, target(), "", "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.3", "i", "3", "1.3.6.1.2.1.2.2.1.2.3", "s", "eth1", "1.3.6.1.2.1.2.2.1.8.3", "i", "2"])).code).toBe(0);
    expect((await snmptrap(["-v2c", "-c", COMMUNITY, `udp6:[::1]:${r.port}`, "", "1.3.6.1.4.1.99999.0.7", "1.3.6.1.4.1.99999.1.1", "x", "00ff10"])).code).toBe(0);
    const linkDown = await waitFor("linkDown logged", () => r.logs.find((l) => l.trapName === "IF-MIB::linkDown"));
    expect(linkDown.varbinds).toEqual([
      { oid: "1.3.6.1.2.1.2.2.1.1.3", name: "IF-MIB::ifIndex.3", type: "Integer", value: 3 },
      { oid: "1.3.6.1.2.1.2.2.1.2.3", name: "IF-MIB::ifDescr.3", type: "OctetString", value: "eth1" },
      { oid: "1.3.6.1.2.1.2.2.1.8.3", name: "IF-MIB::ifOperStatus.3", type: "Integer", value: 2 },
    ]);
    // v1: generic linkUp (3) maps to IF-MIB::linkUp, enterprise-specific 5 to <enterprise>.0.5 (RFC 3584).
    expect((await snmptrap(["-v1", "-c", COMMUNITY, target(), "1.3.6.1.4.1.8072.3.2.10", "127.0.0.1", "3", "0", "", "1.3.6.1.2.1.2.2.1.1.4", "i", "4"])).code).toBe(0);
    expect((await snmptrap(["-v1", "-c", COMMUNITY, target(), "1.3.6.1.4.1.99999", "127.0.0.1", "6", "5", ""])).code).toBe(0);
    await waitFor("v1 traps logged", () => r.logs.some((l) => l.version === "1" && l.trapName === "IF-MIB::linkUp" && l.varbinds[0]?.name === "IF-MIB::ifIndex.4") && r.logs.some((l) => l.version === "1" && l.trapOid === "1.3.6.1.4.1.99999.0.5"));
    const unknown = await waitFor("enterprise trap logged", () => r.logs.find((l) => l.trapOid === "1.3.6.1.4.1.99999.0.7"));
    expect(unknown).toMatchObject({ trapName: null, source: "::1", varbinds: [{ oid: "1.3.6.1.4.1.99999.1.1", name: null, value: "0x00ff10" }] });
  });

  it("takes v3 authPriv traps from any engine ID and v3 informs, logging coldStart by name", async () => {
    for (const engine of ["0x8000000001020304", "0x80001f8880aabbccddeeff0011"])
      expect((await snmptrap([...v3Args(), "-e", engine, target(), "", "1.3.6.1.6.3.1.1.5.1"])).code).toBe(0);
    const values = edgeValues("host3", 3);
    expect((await snmptrap([...v3Args(), "-Ci", "-r", "0", target(), "", tree.notificationOid("tailnetChanged"), ...snmptrapVarbindArgs(values)])).code).toBe(0);
    await waitFor("two v3 coldStarts", () => r.logs.filter((l) => l.trapName === "SNMPv2-MIB::coldStart" && l.version === "3" && l.user === V3_USER.name).length === 2);
    expect(r.receiver.fleet.nodes.get("host3")?.lastEvent).toBe("tailnetChanged");
  });

  it("counts and logs wrong credentials with their source, and applies nothing from them", async () => {
    await snmptrap(["-v2c", "-c", "not-the-community", target(), "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(edgeValues("intruder", 1))]);
    await snmptrap([...v3Args(V3_USER.name, "wrong-auth-key"), "-e", "0x8000000001020304", target(), "", "1.3.6.1.6.3.1.1.5.1"]);
    expect((await snmptrap([...v3Args("nobody"), "-Ci", "-r", "0", "-t", "1", target(), "", "1.3.6.1.6.3.1.1.5.1"])).code).not.toBe(0);
    const text = await waitFor("auth failures counted", async () => {
      const t = await metricsText(r.metricsUrl);
      return sample(t, 'edge_fleet_receiver_auth_failures_total{reason="unknown_user"}')! >= 1 ? t : null;
    });
    expect(sample(text, 'edge_fleet_receiver_auth_failures_total{reason="unknown_community"}')).toBe(1);
    expect(sample(text, 'edge_fleet_receiver_auth_failures_total{reason="wrong_digest"}')).toBe(1);
    expect(r.receiver.fleet.nodes.has("intruder")).toBe(false);
    const logged = r.logs.filter((l) => typeof l.reason === "string" && ["unknown_community", "wrong_digest", "unknown_user"].includes(l.reason));
    expect(logged.map((l) => l.source)).toEqual(["127.0.0.1", "127.0.0.1", "127.0.0.1"]);
    // Never the secrets: not the community the sender used, not the keys.
    expect(JSON.stringify(r.logs)).not.toMatch(/not-the-community|wrong-auth-key|auth-secret-1|priv-secret-1/);
  });

  it("takes notifications from net-snmp sessions: v2c trap and v3 inform (port = trapPort work-around)", async () => {
    const v2 = snmp.createSession("127.0.0.1", COMMUNITY, { version: snmp.Version2c, trapPort: r.port, port: r.port, retries: 0, timeout: 2000 });
    await new Promise<void>((resolve, reject) => v2.trap(tree.notificationOid("pathChanged"), toVarbinds(tree, edgeValues("host4", 1)), (e: Error | null) => (e ? reject(e) : resolve())));
    v2.close();
    const v3 = snmp.createV3Session("127.0.0.1", toNetSnmpUser(V3_USER as never), { version: snmp.Version3, trapPort: r.port, port: r.port, retries: 1, timeout: 2000 });
    for (const seq of [2, 3]) await new Promise<void>((resolve, reject) => v3.inform(tree.notificationOid("heartbeat"), toVarbinds(tree, edgeValues("host4", seq)), (e: Error | null) => (e ? reject(e) : resolve())));
    v3.close();
    await waitFor("host4 at sequence 3", () => r.receiver.fleet.nodes.get("host4")?.lastSequence === 3);
  });
});

describeWith({ binaries: ["snmptrap"] }, "receiver identity checks with tailscaled whois", () => {
  let r: TestReceiver;
  let tailscaled: FakeTailscaled;
  beforeAll(async () => {
    tailscaled = await startFakeTailscaled({ ...defaultScenario(), whois: { "127.0.0.1": { hostName: "laptop", tags: [] }, "::1": { hostName: "host5", tags: ["tag:monitor"] } } });
    r = await startTestReceiver({ allowSources: ["127.0.0.0/8", "::1/128"] }, { raw: { tailscale: { socket: tailscaled.socket } } });
  });
  afterAll(async () => {
    await r?.stop();
    await tailscaled?.stop();
  });

  it("accepts a node whose source tailscaled attributes to it", async () => {
    expect((await snmptrap(["-v2c", "-Ci", "-r", "0", "-c", COMMUNITY, `udp6:[::1]:${r.port}`, "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(edgeValues("host5", 1))])).code).toBe(0);
    await waitFor("host5 applied", () => r.receiver.fleet.nodes.has("host5"));
    expect(r.logs.find((l) => l.node === "host5")).toMatchObject({ identity: "whois" });
    expect(tailscaled.requests.some((q) => q.url.startsWith("/localapi/v0/whois?addr=") && decodeURIComponent(q.url).includes("[::1]:"))).toBe(true);
  });

  it("drops a node claiming to be another, logging the source and both names", async () => {
    await snmptrap(["-v2c", "-c", COMMUNITY, `127.0.0.1:${r.port}`, "", tree.notificationOid("heartbeat"), ...snmptrapVarbindArgs(edgeValues("host6", 1))]);
    const line = await waitFor("mismatch logged", () => r.logs.find((l) => l.reason === "identity_mismatch"));
    expect(line).toMatchObject({ source: "127.0.0.1", claimedNode: "host6.example-tailnet.ts.net" });
    expect(line.msg).toContain("laptop.example-tailnet.ts.net");
    expect(r.receiver.fleet.nodes.has("host6")).toBe(false);
    expect(sample(await metricsText(r.metricsUrl), 'edge_fleet_receiver_notifications_dropped_total{reason="identity_mismatch"}')).toBe(1);
  });
});

describeWith({ binaries: ["snmptrap"] }, "receiver listening like the default config", () => {
  it("binds udp6:[::] and udp:0.0.0.0 on one port and takes IPv6 and IPv4 notifications", async () => {
    const port = await freeUdpPort();
    const r = await startTestReceiver({ listen: [`udp6:[::]:${port}`, `udp:0.0.0.0:${port}`] });
    try {
      expect((await snmptrap(["-v2c", "-c", COMMUNITY, `udp6:[::1]:${port}`, "", "1.3.6.1.6.3.1.1.5.1"])).code).toBe(0);
      expect((await snmptrap(["-v2c", "-c", COMMUNITY, `127.0.0.1:${port}`, "", "1.3.6.1.6.3.1.1.5.2"])).code).toBe(0);
      await waitFor("both logged", () => r.logs.some((l) => l.trapName === "SNMPv2-MIB::coldStart" && l.source === "::1") && r.logs.some((l) => l.trapName === "SNMPv2-MIB::warmStart" && l.source === "127.0.0.1"));
    } finally {
      await r.stop();
    }
  });

  it("says which listener cannot bind and what to do", async () => {
    const r = await startTestReceiver();
    try {
      await expect(startTestReceiver({ listen: [`udp:127.0.0.1:${r.port}`] })).rejects.toThrow(`cannot listen on udp:127.0.0.1:${r.port}: EADDRINUSE (another trap receiver, such as snmptrapd, holds the port`);
    } finally {
      await r.stop();
    }
  });
});
