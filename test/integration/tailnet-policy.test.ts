// The tailnet-policy probe against the LocalAPI test server (the one allowed stand-in for
// tailscaled) serving packet filters of the real shape: the seed's rules and their broken
// variants, wildcard, range and CIDR sources, a grant with ip ["*"], shields-up, no netmap, a
// caller without the permission the filter needs, and a tailscaled that fails.
import { describe, expect, it } from "vitest";
import type { FilterRule } from "../../agent/policy/packet-filter";
import { notifyVerdicts } from "../../agent/policy/notify-flows";
import { readPacketFilter, WATCH_PATH } from "../../agent/probes/packet-filter-source";
import { probeTailnetPolicy, type TailnetPolicy, type TailnetPolicyState } from "../../agent/probes/tailnet-policy";
import { defaultScenario, seedFilterRules, type Scenario } from "../helpers/tailscaled";
import { useFakeTailscaled } from "../helpers/tailscaled-per-file";

const server = useFakeTailscaled();

const SCRAPER = defaultScenario().scraperIps;
const SELF = defaultScenario().selfIps;
const seed = () => seedFilterRules(defaultScenario());

function probe(scenario: Partial<Scenario> = {}, options: { socket?: string; scraperIps?: string[]; selfIps?: string[] } = {}): Promise<TailnetPolicy> {
  server().scenario = { ...defaultScenario(), ...scenario };
  return probeTailnetPolicy({ socket: options.socket ?? server().socket, scraperIps: options.scraperIps ?? SCRAPER, selfIps: options.selfIps ?? SELF, timeoutMs: 1000 });
}

async function flows(scenario: Partial<Scenario> = {}) {
  const r = await probe(scenario);
  expect(r.state).toBe("ok");
  const byId = Object.fromEntries((r as TailnetPolicyState).flows.map((f) => [f.id, f]));
  return { source: (r as TailnetPolicyState).source, scrape: byId["scrape-node-exporter"], poll: byId["poll-snmpd"] };
}

const withRule = (index: number, change: (r: FilterRule) => FilterRule) => seed().map((r, i) => (i === index ? change(r) : r));
const without = (index: number) => seed().filter((_, i) => i !== index);

describe("the seed policy's filter and its broken variants", () => {
  it("the seed's three rules: both flows accepted, each by its own rule (index and text)", async () => {
    const f = await flows();
    expect(f.source).toBe("ipn-bus");
    expect(f.scrape).toEqual({ id: "scrape-node-exporter", verdict: "accept", decidedBy: `rule 0: ${JSON.stringify(seed()[0])}` });
    expect(f.poll).toEqual({ id: "poll-snmpd", verdict: "accept", decidedBy: `rule 1: ${JSON.stringify(seed()[1])}` });
    expect(server().requests.map((r) => r.url)).toEqual([WATCH_PATH]);
  });

  it("the 9100 rule missing: scrape-node-exporter is dropped by the default deny", async () => {
    const f = await flows({ packetFilter: without(0) });
    expect(f.scrape).toMatchObject({ verdict: "drop", decidedBy: "default deny: no rule of 2 admits tcp/9100 from 100.64.0.1 to 100.101.102.103" });
    expect(f.poll).toMatchObject({ verdict: "accept", decidedBy: expect.stringMatching(/^rule 0: /) });
  });

  it("the 161 rule missing: poll-snmpd is dropped, and the 9100 rule is named as the near miss", async () => {
    const f = await flows({ packetFilter: without(1) });
    expect(f.poll).toMatchObject({ verdict: "drop", reason: "rule 0 admits 100.64.0.1 to 100.101.102.103 only for tcp on ports 9100" });
    expect(f.scrape.verdict).toBe("accept");
  });

  it("the 162 rule missing changes nothing here: its destination is the scraper", async () => {
    const f = await flows({ packetFilter: without(2) });
    expect([f.scrape.verdict, f.poll.verdict]).toEqual(["accept", "accept"]);
  });

  it("the seed's 162 rule alone admits neither flow", async () => {
    const f = await flows({ packetFilter: [seed()[2]] });
    expect([f.scrape.verdict, f.poll.verdict]).toEqual(["drop", "drop"]);
  });

  it("wrong port: 9101 instead of 9100", async () => {
    const f = await flows({ packetFilter: withRule(0, (r) => ({ ...r, DstPorts: r.DstPorts!.map((d) => ({ ...d, Ports: { First: 9101, Last: 9101 } })) })) });
    expect(f.scrape).toMatchObject({ verdict: "drop", reason: "rule 0 admits 100.64.0.1 to 100.101.102.103 only for tcp on ports 9101" });
  });

  it("wrong protocol: 161 over tcp", async () => {
    const f = await flows({ packetFilter: withRule(1, (r) => ({ ...r, IPProto: [6] })) });
    expect(f.poll).toMatchObject({ verdict: "drop", reason: expect.stringContaining("only for tcp on ports 9100") });
  });

  it("an empty filter (control's block-all) drops both", async () => {
    const f = await flows({ packetFilter: [] });
    expect(f.scrape).toMatchObject({ verdict: "drop", decidedBy: "default deny: no rule of 0 admits tcp/9100 from 100.64.0.1 to 100.101.102.103" });
    expect(f.poll.verdict).toBe("drop");
  });
});

describe("source and destination forms", () => {
  it("a * source", async () => {
    const f = await flows({ packetFilter: [{ SrcIPs: ["*"], DstPorts: SELF.map((ip) => ({ IP: ip, Ports: { First: 0, Last: 65535 } })) }] });
    expect([f.scrape.verdict, f.poll.verdict]).toEqual(["accept", "accept"]);
  });

  it("a grant with ip [\"*\"]: no IPProto (TCP, UDP, ICMP), every port, * destinations", async () => {
    const f = await flows({ packetFilter: [{ SrcIPs: SCRAPER, DstPorts: [{ IP: "*", Ports: { First: 0, Last: 65535 } }] }] });
    expect(f.scrape).toMatchObject({ verdict: "accept", decidedBy: expect.stringMatching(/^rule 0: \{"SrcIPs":\["100\.64\.0\.1","fd7a:115c:a1e0::1"\],"DstPorts":\[\{"IP":"\*"/) });
    expect(f.poll.verdict).toBe("accept");
  });

  it("CIDRs and ranges that hold the scraper's addresses", async () => {
    const f = await flows({ packetFilter: [{ SrcIPs: ["100.64.0.0/10", "fd7a:115c:a1e0::/48"], DstPorts: SELF.map((ip) => ({ IP: ip, Ports: { First: 9100, Last: 9100 } })), IPProto: [6] }, { SrcIPs: ["100.64.0.0-100.64.0.9", "fd7a:115c:a1e0::-fd7a:115c:a1e0::ff"], DstPorts: [{ IP: "100.101.102.0/24", Ports: { First: 100, Last: 200 } }, { IP: "fd7a:115c:a1e0::1234:0/112", Ports: { First: 100, Last: 200 } }], IPProto: [17] }] });
    expect([f.scrape.verdict, f.poll.verdict]).toEqual(["accept", "accept"]);
  });

  it("a range that stops short of the scraper, and a CIDR with host bits tailscaled skips", async () => {
    const f = await flows({ packetFilter: [{ SrcIPs: ["100.64.0.2-100.64.0.9", "fd7a:115c:a1e0::1"], DstPorts: SELF.map((ip) => ({ IP: ip, Ports: { First: 9100, Last: 9100 } })), IPProto: [6] }, { SrcIPs: ["100.64.0.1/10", "fd7a:115c:a1e0::1"], DstPorts: SELF.map((ip) => ({ IP: ip, Ports: { First: 161, Last: 161 } })), IPProto: [17] }] });
    expect(f.scrape).toMatchObject({ verdict: "drop", reason: expect.stringMatching(/^ipv6 is admitted \(rule 0\), ipv4 is not; /) });
    expect(f.poll).toMatchObject({ verdict: "drop", reason: "ipv6 is admitted (rule 1), ipv4 is not; tailscaled skipped an entry: rule 1: 100.64.0.1/10 contains non-network bits set" });
  });

  it("a source only known by a capability is unknown", async () => {
    const f = await flows({ packetFilter: [{ SrcIPs: ["cap:example.com/cap/scraper"], DstPorts: [{ IP: "*", Ports: { First: 0, Last: 65535 } }] }] });
    expect(f.scrape).toMatchObject({ verdict: "unknown", reason: expect.stringContaining("only from peers holding example.com/cap/scraper") });
  });

  it("SrcBits: tailscaled refuses the whole filter, so the verdict is unknown", async () => {
    const f = await flows({ packetFilter: [{ ...seed()[0], SrcBits: [32] }, seed()[1]] });
    expect(f.poll).toMatchObject({ verdict: "unknown", decidedBy: "filter-refused" });
  });
});

describe("what overrides the rules, and what keeps them from being read", () => {
  it("shields-up drops both flows with its own reason, whatever the rules say", async () => {
    const f = await flows({ shieldsUp: true });
    expect(f.scrape).toEqual({ id: "scrape-node-exporter", verdict: "drop", decidedBy: "shields-up", reason: expect.stringContaining("sudo tailscale set --shields-up=false") });
    expect(f.poll.decidedBy).toBe("shields-up");
  });

  it("a jailed scraper is refused like shields-up", async () => {
    expect((await flows({ scraperJailed: true })).scrape).toMatchObject({ verdict: "drop", decidedBy: "peer-jailed", reason: expect.stringContaining("control marks the scraper as jailed") });
  });

  it("no netmap: unknown, saying so", async () => {
    const f = await flows({ packetFilter: null });
    expect(f.source).toBeNull();
    expect(f.scrape).toMatchObject({ verdict: "unknown", decidedBy: "no-netmap" });
    expect(f.poll.decidedBy).toBe("no-netmap");
  });

  it("a read-only caller reads the filter from the IPN bus", async () => {
    const f = await flows({ access: "read" });
    expect([f.source, f.scrape.verdict]).toEqual(["ipn-bus", "accept"]);
  });

  it("a bus without PacketFilterRules: the debug endpoint, with write access", async () => {
    const f = await flows({ busWithoutRules: true, packetFilter: without(0) });
    expect(f.source).toBe("debug-packet-filter-rules");
    expect(f.scrape.verdict).toBe("drop");
    expect(server().requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${WATCH_PATH}`, "POST /localapi/v0/debug-packet-filter-rules"]);
  });

  it("permission refused: unknown with the command that grants it", async () => {
    const f = await flows({ busWithoutRules: true, access: "read" });
    const user = (await import("node:os")).userInfo().username;
    expect(f.scrape).toEqual({ id: "scrape-node-exporter", verdict: "unknown", decidedBy: "localapi-permission", reason: expect.stringContaining(`sudo tailscale set --operator=${user}`) });
  });

  it("neither source: unavailable with its code", async () => {
    expect(await probe({ busWithoutRules: true, noDebugEndpoints: true })).toMatchObject({ state: "unavailable", code: "no-filter-source" });
  });

  it("no socket, no scraper, a bus that never answers or sends garbage: unavailable with codes", async () => {
    expect(await probe({}, { socket: "/nonexistent/tailscaled.sock" })).toMatchObject({ state: "unavailable", code: "no-socket" });
    expect(await probe({}, { scraperIps: [] })).toMatchObject({ state: "unavailable", code: "no-scraper" });
    const start = Date.now();
    expect(await probe({ hang: ["watch-ipn-bus"] })).toMatchObject({ state: "unavailable", code: "localapi", error: expect.stringContaining("within 1000 ms") });
    expect(Date.now() - start).toBeLessThan(3000);
    expect(await probe({ raw: { "watch-ipn-bus": { status: 200, body: "<html>\n" } } })).toMatchObject({ state: "unavailable", code: "localapi", error: expect.stringContaining("not JSON") });
    expect(await probe({ raw: { "watch-ipn-bus": { status: 200, body: '{"NetMap": {"PacketFilterRules": {"x": 1}}}\n' } } })).toMatchObject({ state: "unavailable", code: "malformed" });
  });

  it("this node's addresses come from the netmap when the caller has none", async () => {
    const r = (await probe({}, { selfIps: [] })) as TailnetPolicyState;
    expect(r.flows.map((f) => f.verdict)).toEqual(["accept", "accept"]);
  });
});

describe("the receiver's direction from the scraper's own tailscaled", () => {
  it("reads the scraper's filter and judges udp/162 from each fleet node", async () => {
    // This server now plays the scraper: its own addresses, and the seed's notify rule as control compiles it for it.
    const nodes = [{ name: "node1", ips: ["100.101.102.103", "fd7a:115c:a1e0::1234:5678"] }, { name: "laptop", ips: ["100.90.1.2", "fd7a:115c:a1e0::9"] }];
    server().scenario = { ...defaultScenario(), selfHostName: "scraper", selfIps: SCRAPER, scraperIps: nodes[0].ips, packetFilter: [{ SrcIPs: nodes[0].ips, DstPorts: SCRAPER.map((ip) => ({ IP: ip, Ports: { First: 162, Last: 162 } })), IPProto: [17] }] };
    const reading = await readPacketFilter(server().socket, 1000);
    if (reading.state !== "ok") throw new Error(reading.error);
    expect(reading.selfIps).toEqual(SCRAPER);
    expect(notifyVerdicts(reading.source, reading.selfIps, nodes).map((v) => [v.node, v.verdict])).toEqual([["node1", "accept"], ["laptop", "drop"]]);
    server().scenario = { ...server().scenario, shieldsUp: true };
    const shielded = await readPacketFilter(server().socket, 1000);
    if (shielded.state !== "ok") throw new Error(shielded.error);
    expect(notifyVerdicts(shielded.source, shielded.selfIps, nodes).map((v) => v.decidedBy)).toEqual(["shields-up", "shields-up"]);
  });
});
