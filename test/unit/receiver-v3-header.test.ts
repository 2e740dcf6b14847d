import snmp from "net-snmp";
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { v3EngineId } from "../../agent/receiver/v3-header";

describe("v3 header", () => {
  async function onTheWire(send: (port: number) => void): Promise<Buffer> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const got = new Promise<Buffer>((resolve) => socket.once("message", resolve));
    send(socket.address().port);
    const buf = await got;
    socket.close();
    return buf;
  }

  it("reads the engine ID of a v3 trap, and none from v2c or garbage", async () => {
    const v3 = await onTheWire((port) => {
      const s = snmp.createV3Session("127.0.0.1", { name: "u", level: snmp.SecurityLevel.noAuthNoPriv }, { version: snmp.Version3, trapPort: port, engineID: "8000000001020304" });
      s.trap("1.3.6.1.6.3.1.1.5.1", [], () => setTimeout(() => s.close(), 20));
    });
    expect(v3EngineId(v3)).toBe("8000000001020304");
    const v2 = await onTheWire((port) => {
      const s = snmp.createSession("127.0.0.1", "c", { version: snmp.Version2c, trapPort: port });
      s.trap("1.3.6.1.6.3.1.1.5.1", [], () => setTimeout(() => s.close(), 20));
    });
    expect(v3EngineId(v2)).toBeNull();
    for (let cut = 0; cut < v3.length; cut += 7) expect(() => v3EngineId(v3.subarray(0, cut))).not.toThrow();
    expect(v3EngineId(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]))).toBeNull();
  });
});
