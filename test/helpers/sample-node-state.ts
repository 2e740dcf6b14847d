// A realistic NodeState (tagged node, direct IPv6 path, firewall verdicts) for tests of the
// outputs; `with` overrides parts so a test states only what it changes.
import type { NodeState } from "../../agent/state/node-state";

export function sampleNodeState(overrides: { hostname?: string; nodeExporterUp?: boolean; snmpdUp?: boolean; path?: "direct" | "relay" } = {}): NodeState {
  const path = overrides.path ?? "direct";
  return {
    agent: { version: "0.1.0" },
    collectedAt: "2026-11-28T12:00:00.000Z",
    host: { state: "ok", hostname: overrides.hostname ?? "host1", os: "Debian GNU/Linux 12", kernel: "6.1.0", model: "test", arch: "x64" },
    ipv6: {
      state: "ok",
      primary: "2001:db8:100:1::/64",
      prefixes: [{ prefix: "2001:db8:100:1::/64", interface: "eth0", addresses: [{ address: "2001:db8:100:1::10", prefixLength: 64, flags: ["permanent"] }], inAllocation: true }],
    },
    tailnet: {
      state: "Running",
      source: "localapi",
      version: "1.80.0",
      hostname: overrides.hostname ?? "host1",
      dnsName: `${overrides.hostname ?? "host1"}.tail1234.ts.net`,
      ips: ["100.64.0.10", "fd7a:115c:a1e0::10"],
      tags: ["tag:monitor"],
      missingTags: [],
      port: 41641,
      health: [],
      scraper: {
        found: true,
        hostname: "scraper",
        dnsName: "scraper.tail1234.ts.net",
        ips: ["100.64.0.1", "fd7a:115c:a1e0::1"],
        tags: ["tag:scraper"],
        online: true,
        path,
        endpoint: path === "direct" ? "[2001:db8:100:2::1]:41641" : null,
        family: path === "direct" ? "ipv6" : null,
        relay: path === "relay" ? "fra" : null,
        latencyMs: 3,
      },
      policy: {
        state: "ok",
        source: "ipn-bus",
        flows: [
          { id: "scrape-node-exporter", verdict: "accept", decidedBy: 'rule 0: {"SrcIPs":["100.64.0.1","fd7a:115c:a1e0::1"],"DstPorts":[{"IP":"100.64.0.10","Ports":{"First":9100,"Last":9100}}],"IPProto":[6]}' },
          { id: "poll-snmpd", verdict: "accept", decidedBy: 'rule 1: {"SrcIPs":["100.64.0.1","fd7a:115c:a1e0::1"],"DstPorts":[{"IP":"100.64.0.10","Ports":{"First":161,"Last":161}}],"IPProto":[17]}' },
        ],
      },
    },
    services: {
      nodeExporter: { url: "http://127.0.0.1:9100/metrics", up: overrides.nodeExporterUp ?? true, version: "1.5.0", tailnetReachable: true },
      snmpd: { target: "127.0.0.1:161", up: overrides.snmpdUp ?? true, sysDescr: "Linux", sysUpTimeSeconds: 100, tailnetReachable: true },
    },
    firewall: {
      state: "ok",
      port: 41641,
      portSource: "localapi",
      notes: [],
      backend: "nftables",
      checks: [
        { id: "inbound-ipv6", verdict: "accept", decidedBy: "rule 4" },
        { id: "inbound-ipv4", verdict: "drop", decidedBy: "policy drop" },
        { id: "outbound-ipv6", verdict: "accept", decidedBy: "policy accept" },
        { id: "outbound-ipv4", verdict: "accept", decidedBy: "policy accept" },
      ],
    },
  };
}
