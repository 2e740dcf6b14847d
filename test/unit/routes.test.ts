// Which interface the routing table picks for an address, as the forward checks use it: the
// longest prefix wins, then the lower metric; reject routes and other families never match.
import { describe, expect, it } from "vitest";
import { parseIpv4Routes, parseIpv6Routes, routeDevice } from "../../agent/probes/routes";

// A router: its LAN /56 on lan0, a /64 of it on lan1, the default route via wan0, an
// unreachable route, and its own address (a local /128, listed with the device that holds it).
const IPV6_ROUTE = [
  "20010db8010000000000000000000000 38 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     lan0",
  "20010db8010000050000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     lan1",
  "20010db8ffff00000000000000000000 30 00000000000000000000000000000000 00 00000000000000000000000000000000 00000400 00000001 00000000 00200200       lo",
  "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000003 00000000 00000003     wan0",
  "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000002 00000200 00000003 00000000 00000003     wan1",
  "20010db8010000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 80200001     lan0",
].join("\n");

const ROUTE = [
  "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
  "wan0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0",
  "lan0\t0000A8C0\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
  "lan1\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
].join("\n");

describe("routeDevice", () => {
  const routes = [...parseIpv6Routes(IPV6_ROUTE), ...parseIpv4Routes(ROUTE)];

  it("picks the longest matching IPv6 prefix, then the lower metric", () => {
    expect(routeDevice(routes, "2001:db8:100::1")).toBe("lan0");
    expect(routeDevice(routes, "2001:db8:100:5::9")).toBe("lan1");
    expect(routeDevice(routes, "2001:db8:100:ff::9")).toBe("lan0");
    // Two default routes: metric 0x200 beats 0x400.
    expect(routeDevice(routes, "2001:4860:4860::8888")).toBe("wan1");
  });

  it("never sends through a reject route", () => {
    expect(routeDevice(routes, "2001:db8:ffff::1")).toBe("wan1");
  });

  it("reads IPv4's little-endian table and masks", () => {
    expect(routeDevice(routes, "192.168.1.7")).toBe("lan1");
    expect(routeDevice(routes, "192.168.7.7")).toBe("lan0");
    expect(routeDevice(routes, "8.8.8.8")).toBe("wan0");
  });

  it("answers null where no route matches, or the table is empty or garbage", () => {
    expect(routeDevice(parseIpv6Routes(IPV6_ROUTE), "8.8.8.8")).toBeNull();
    expect(routeDevice(parseIpv6Routes(""), "2001:db8::1")).toBeNull();
    expect(routeDevice(parseIpv6Routes("garbage\n\x00\n"), "2001:db8::1")).toBeNull();
    expect(parseIpv4Routes("Iface\tDestination\nnonsense")).toEqual([]);
  });
});
