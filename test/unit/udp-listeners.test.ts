// Reading /proc/net/udp{,6}: who listens on which local UDP address and port (the snmpd probe
// uses it to fail at once instead of after its timeout).
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { isLocalAddress, localUdpListener, parseProcNetUdp, someoneListens } from "../../agent/probes/udp-listeners";

const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 2811: 0100007F:3F21 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 13848 2 000000009c7d1631 0
  120: 00000000:00A1 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 13849 2 000000009c7d1632 0
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  500: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0 0
  501: B80D0120000000000000000001000000:0A1A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0 0
  502: 0000000000000000FFFF00000200007F:2328 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0 0
`;

describe("parseProcNetUdp (little-endian host)", () => {
  it("decodes IPv4 and IPv6 local addresses and ports", () => {
    expect(parseProcNetUdp(UDP, true)).toEqual([
      { family: "ipv4", address: "127.0.0.1", port: 16161, inode: 13848 },
      { family: "ipv4", address: "0.0.0.0", port: 161, inode: 13849 },
    ]);
    expect(parseProcNetUdp(UDP6, true)).toEqual([
      { family: "ipv6", address: "::1", port: 8080, inode: 1 },
      { family: "ipv6", address: "2001:db8::1", port: 2586, inode: 1 },
      { family: "ipv6", address: "::ffff:7f00:2", port: 9000, inode: 1 }, // ::ffff:127.0.0.2
    ]);
  });

  it("reads big-endian tables too", () => {
    expect(parseProcNetUdp(" 1: 7F000001:00A1 00000000:0000 07\n", false)).toEqual([{ family: "ipv4", address: "127.0.0.1", port: 161, inode: 0 }]);
  });
});

describe("someoneListens", () => {
  const sockets = [...parseProcNetUdp(UDP, true), ...parseProcNetUdp(UDP6, true)];
  it("matches the exact address, a wildcard, or a v4-mapped address", () => {
    expect(someoneListens(sockets, "127.0.0.1", 16161)).toBe(true);
    expect(someoneListens(sockets, "127.0.0.5", 161)).toBe(true); // 0.0.0.0:161
    expect(someoneListens(sockets, "::1", 8080)).toBe(true);
    expect(someoneListens(sockets, "127.0.0.2", 9000)).toBe(true); // ::ffff:127.0.0.2
  });

  it("does not match another address or port", () => {
    expect(someoneListens(sockets, "127.0.0.2", 16161)).toBe(false);
    expect(someoneListens(sockets, "::1", 16161)).toBe(false);
    expect(someoneListens(sockets, "2001:db8::2", 2586)).toBe(false);
  });
});

describe("on this host", () => {
  it("knows loopback is local and a documentation address is not", () => {
    expect(isLocalAddress("127.0.0.1")).toBe(true);
    expect(isLocalAddress("127.0.0.2")).toBe(true);
    expect(isLocalAddress("::1")).toBe(true);
    expect(isLocalAddress("198.51.100.7")).toBe(false);
    expect(isLocalAddress("localhost")).toBe(false);
  });

  it("sees a socket this test binds, and not after it closes", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const { port } = socket.address();
    expect(await localUdpListener("127.0.0.1", port)).toBe(true);
    expect(await localUdpListener("127.0.0.3", port)).toBe(false);
    await new Promise<void>((resolve) => socket.close(resolve));
    expect(await localUdpListener("127.0.0.1", port)).toBe(false);
    // A remote address cannot be decided from here.
    expect(await localUdpListener("198.51.100.7", port)).toBeNull();
  });
});
