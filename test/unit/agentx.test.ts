// The AgentX stream framing that works around net-snmp's one-PDU-per-data-event parser, and the
// agentx.master address form.
import { describe, expect, it } from "vitest";
import { parseMaster, PduFramer } from "../../agent/snmp/agentx";

/** An AgentX header (RFC 2741 6.1) with `payload` bytes after it, network byte order. */
function pdu(packetId: number, payload: number, bigEndian = true): Buffer {
  const b = Buffer.alloc(20 + payload, 0xab);
  b[0] = 1; // version
  b[1] = 18; // Response
  b[2] = bigEndian ? 0x10 : 0;
  b[3] = 0;
  if (bigEndian) {
    b.writeUInt32BE(packetId, 12);
    b.writeUInt32BE(payload, 16);
  } else {
    b.writeUInt32LE(packetId, 12);
    b.writeUInt32LE(payload, 16);
  }
  return b;
}

describe("AgentX framing", () => {
  it("splits responses that arrive in one TCP read", () => {
    const framer = new PduFramer();
    const [a, b, c] = [pdu(1, 8), pdu(2, 0), pdu(3, 24)];
    const out = framer.push(Buffer.concat([a, b, c]));
    expect(out.map((p) => p.readUInt32BE(12))).toEqual([1, 2, 3]);
    expect(out.map((p) => p.length)).toEqual([28, 20, 44]);
  });

  it("joins a PDU split across reads, even inside the header", () => {
    const framer = new PduFramer();
    const whole = Buffer.concat([pdu(7, 12), pdu(8, 4)]);
    expect(framer.push(whole.subarray(0, 10))).toEqual([]);
    expect(framer.push(whole.subarray(10, 31))).toEqual([]);
    const out = framer.push(whole.subarray(31));
    expect(out.map((p) => p.readUInt32BE(12))).toEqual([7, 8]);
  });

  it("reads the payload length in the byte order the header announces", () => {
    const framer = new PduFramer();
    const out = framer.push(Buffer.concat([pdu(5, 8, false), pdu(6, 4, false)]));
    expect(out.map((p) => p.length)).toEqual([28, 24]);
  });

  it("refuses a stream that is not AgentX instead of buffering forever", () => {
    const framer = new PduFramer();
    expect(() => framer.push(Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n"))).toThrow(/not an AgentX stream/);
  });
});

describe("agentx.master", () => {
  it("takes tcp:HOST:PORT and tcp:[IPv6]:PORT", () => {
    expect(parseMaster("tcp:127.0.0.1:705")).toEqual({ host: "127.0.0.1", port: 705 });
    expect(parseMaster("tcp:localhost:7050")).toEqual({ host: "localhost", port: 7050 });
    expect(parseMaster("tcp:[::1]:705")).toEqual({ host: "::1", port: 705 });
  });

  it("names the expected form for anything else", () => {
    expect(() => parseMaster("unix:/var/agentx/master")).toThrow(/is not tcp:HOST:PORT/);
  });
});
