import snmp from "net-snmp";
import { createSocket, type Socket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toNotification, type Notification } from "../../agent/receiver/notification";
import { oidOctets, readV2cNotification } from "../../agent/receiver/v2c-notification";
import { authorizer, createNetSnmpReceiver, interceptDatagrams, receiverSockets, type NetSnmpReceiver } from "../../agent/snmp/net-snmp-internals";
import { oidTree } from "../../agent/snmp/oid-tree";
import type { ObjectValues } from "../../agent/snmp/state-objects";
import { toVarbinds } from "../../agent/snmp/varbinds";

const tree = oidTree();
const COMMUNITY = "edge-c";
const communities = [{ text: COMMUNITY, octets: Buffer.from(COMMUNITY) }];

const VALUES: ObjectValues = {
  edgeAgentHostName: "host1",
  edgeAgentTailnetName: "host1.example.ts.net",
  edgeAgentTailnetTags: "tag:monitor",
  edgeAgentTailnetAddresses: "100.64.0.1,fd7a:115c:a1e0::1",
  edgeAgentTailnetState: "Running",
  edgeAgentScraperPath: "direct",
  edgeAgentNodeExporterUp: true,
  edgeAgentSnmpdUp: false,
  edgeAgentFirewallPort: 41641,
  edgeAgentVersion: "0.1.0 ✓",
  edgeAgentNotificationSequence: 4000000000,
  edgeAgentEventTime: "2026-12-03T10:00:00.100Z",
  edgeAgentEventSummary: "a summary",
  edgeAgentEventService: "none",
};

/** The first datagram a net-snmp v2c session sends to a local port (a trap, or an inform's first try). */
async function onTheWire(send: (session: any) => void, community = COMMUNITY, version = snmp.Version2c): Promise<Buffer> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const got = new Promise<Buffer>((resolve) => socket.once("message", resolve));
  const session = snmp.createSession("127.0.0.1", community, { version, trapPort: socket.address().port, retries: 0, timeout: 200 });
  session.on("error", () => undefined);
  send(session);
  const buf = await got;
  session.close();
  socket.close();
  return buf;
}

/** net-snmp's own receiver, fed datagrams synchronously: what the receiver got from it before. */
let receiver: NetSnmpReceiver;
let netSnmpSocket: Socket;
let answers: Socket;
let last: { error: any; data: any } | null = null;

beforeAll(async () => {
  receiver = createNetSnmpReceiver({ sockets: [{ transport: "udp4", address: "127.0.0.1", port: 0 }], includeAuthentication: true }, (error, data) => {
    last = { error, data };
  });
  authorizer(receiver).addCommunity(COMMUNITY);
  netSnmpSocket = receiverSockets(receiver)[0];
  await new Promise<void>((resolve) => netSnmpSocket.once("listening", () => resolve()));
  interceptDatagrams(receiver, netSnmpSocket, (_buffer, _rinfo, process) => {
    try {
      process();
    } catch (error) {
      last = { error, data: null };
    }
  });
  answers = createSocket("udp4");
  await new Promise<void>((resolve) => answers.bind(0, "127.0.0.1", resolve));
});

afterAll(() => {
  netSnmpSocket.close();
  answers.close();
});

/** What net-snmp's path made of the datagram: the notification, or null when it refused or failed. */
function throughNetSnmp(buf: Buffer): Notification | null {
  last = null;
  netSnmpSocket.emit("message", buf, { address: "127.0.0.1", port: answers.address().port, family: "IPv4", size: buf.length });
  const got = last as { error: any; data: any } | null;
  if (!got || got.error) return null;
  try {
    return toNotification(got.data, tree);
  } catch {
    return null;
  }
}

const source = () => ({ address: "127.0.0.1", port: answers.address().port });

describe("v2c notifications read straight from the datagram", () => {
  it("reads a net-snmp trap as net-snmp's path does", async () => {
    const buf = await onTheWire((s) => s.trap(tree.notificationOid("heartbeat"), toVarbinds(tree, VALUES), () => undefined));
    const direct = readV2cNotification(buf, source(), communities, tree);
    expect(direct).not.toBeNull();
    expect(direct!.response).toBeNull();
    expect(direct!.notification.edgeAgent!.values).toEqual(VALUES);
    expect(direct!.notification).toEqual(throughNetSnmp(buf));
    expect(direct!.notification).toMatchObject({ version: "2c", pdu: "trap", community: COMMUNITY, trapName: "EDGE-AGENT-MIB::edgeAgentHeartbeat" });
  });

  it("acknowledges an inform with the very answer net-snmp sends", async () => {
    const buf = await onTheWire((s) => s.inform(tree.notificationOid("heartbeat"), toVarbinds(tree, VALUES), () => undefined));
    const direct = readV2cNotification(buf, source(), communities, tree);
    expect(direct!.notification.pdu).toBe("inform");
    const answered = new Promise<Buffer>((resolve) => answers.once("message", resolve));
    expect(direct!.notification).toEqual(throughNetSnmp(buf));
    expect(direct!.response!.equals(await answered)).toBe(true);
  });

  it("leaves everything else to net-snmp", async () => {
    const trap = await onTheWire((s) => s.trap(tree.notificationOid("heartbeat"), toVarbinds(tree, VALUES), () => undefined));
    // Another community, another MIB, no objects at all, an unknown object.
    const others = [
      await onTheWire((s) => s.trap(tree.notificationOid("heartbeat"), toVarbinds(tree, VALUES), () => undefined), "other"),
      await onTheWire((s) => s.trap(snmp.TrapType.ColdStart, [], () => undefined)),
      await onTheWire((s) => s.trap("1.3.6.1.6.3.1.1.5.1", [{ oid: `${tree.objects}.1.0`, type: snmp.ObjectType.OctetString, value: "x" }], () => undefined)),
      await onTheWire((s) => s.trap(tree.notificationOid("heartbeat"), [{ oid: `${tree.objects}.999.0`, type: snmp.ObjectType.OctetString, value: "x" }], () => undefined)),
      await onTheWire((s) => s.trap(tree.notificationOid("heartbeat"), [{ oid: "1.3.6.1.2.1.1.5.0", type: snmp.ObjectType.OctetString, value: "x" }], () => undefined)),
      await onTheWire((s) => s.trap(tree.notificationOid("heartbeat"), [{ oid: `${tree.objects}.1.0`, type: snmp.ObjectType.IpAddress, value: "10.0.0.1" }], () => undefined)),
    ];
    for (const buf of others) expect(readV2cNotification(buf, source(), communities, tree)).toBeNull();
    // A v1 trap of the same notification, a cut-off message, the empty datagram, garbage, a trap with trailing octets.
    const v1 = await onTheWire((s) => s.trap(tree.notificationOid("heartbeat"), toVarbinds(tree, VALUES), () => undefined), COMMUNITY, snmp.Version1);
    expect(throughNetSnmp(v1)?.version).toBe("1");
    for (const buf of [v1, Buffer.from("30030201", "hex"), Buffer.alloc(0), Buffer.from("not snmp"), Buffer.concat([trap, Buffer.from([0])])])
      expect(readV2cNotification(buf, source(), communities, tree)).toBeNull();
    // The tree under a root whose first octet net-snmp reads differently (2.999: 1079 > 127).
    expect(readV2cNotification(trap, source(), communities, oidTree("2.999.1"))).toBeNull();
  });

  it("leaves another spelling of an object's OID to net-snmp (which reads it as the same OID)", () => {
    const tlv = (tag: number, ...content: Buffer[]) => {
      const body = Buffer.concat(content);
      return Buffer.concat([Buffer.from([tag, body.length]), body]);
    };
    const datagram = (hostNameOid: Buffer) =>
      tlv(0x30, tlv(0x02, Buffer.from([1])), tlv(0x04, Buffer.from(COMMUNITY)), tlv(0xa7,
        tlv(0x02, Buffer.from([7])), tlv(0x02, Buffer.from([0])), tlv(0x02, Buffer.from([0])),
        tlv(0x30,
          tlv(0x30, tlv(0x06, oidOctets("1.3.6.1.2.1.1.3.0")), tlv(0x43, Buffer.from([5]))),
          tlv(0x30, tlv(0x06, oidOctets("1.3.6.1.6.3.1.1.4.1.0")), tlv(0x06, oidOctets(tree.notificationOid("heartbeat")))),
          tlv(0x30, tlv(0x06, hostNameOid), tlv(0x04, Buffer.from("h"))))));
    const id = Buffer.from([tree.nameOf(`${tree.objects}.1`) ? 1 : 0]);
    expect(tree.nameOf(`${tree.objects}.1`)?.def.name).toBe("edgeAgentHostName");
    const plain = datagram(Buffer.concat([oidOctets(tree.objects), id, Buffer.from([0])]));
    expect(readV2cNotification(plain, source(), communities, tree)!.notification).toEqual(throughNetSnmp(plain));
    // 0x80 0x01 is the sub-identifier 1 in two octets instead of one.
    const padded = datagram(Buffer.concat([oidOctets(tree.objects), Buffer.from([0x80, 1, 0])]));
    expect(throughNetSnmp(padded)?.edgeAgent?.values).toEqual({ edgeAgentHostName: "h" });
    expect(readV2cNotification(padded, source(), communities, tree)).toBeNull();
  });

  it("never answers differently from net-snmp's path, whatever octet of a trap or inform changes", async () => {
    const trap = await onTheWire((s) => s.trap(tree.notificationOid("heartbeat"), toVarbinds(tree, VALUES), () => undefined));
    const inform = await onTheWire((s) => s.inform(tree.notificationOid("serviceDown"), toVarbinds(tree, VALUES), () => undefined));
    let seed = 21;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    let read = 0;
    let cases = 0;
    let acknowledged = 0;
    const sent = new Set<string>();
    const collect = (m: Buffer) => sent.add(m.toString("hex"));
    answers.on("message", collect);
    for (const original of [trap, inform]) {
      const variants: Buffer[] = [];
      for (let at = 0; at < original.length; at++)
        for (const octet of [0x00, 0x80, 0xff, Math.floor(random() * 256), original[at] ^ 1]) {
          const v = Buffer.from(original);
          v[at] = octet;
          variants.push(v);
        }
      for (let cut = 0; cut < original.length; cut++) variants.push(original.subarray(0, cut));
      for (const v of variants) {
        cases++;
        const direct = readV2cNotification(v, source(), communities, tree);
        if (direct === null) continue;
        read++;
        expect(direct.notification).toEqual(throughNetSnmp(v));
        if (direct.response) {
          // The answer net-snmp sent for this datagram (each variant's differs), given time to arrive.
          const ack = direct.response.toString("hex");
          for (const start = Date.now(); !sent.has(ack) && Date.now() - start < 2000; ) await new Promise((resolve) => setImmediate(resolve));
          expect(sent.has(ack)).toBe(true);
          acknowledged++;
        }
      }
    }
    answers.off("message", collect);
    expect(acknowledged).toBeGreaterThan(100);
    // Most changes to a value's octets still make a notification both paths read.
    expect(read).toBeGreaterThan(cases / 4);
  });
});
