// The pure half of the tailnet probe: finding the scraper, judging the path, summarising the
// status document. Inputs are the LocalAPI test server's documents (the real shape).
import { describe, expect, it } from "vitest";
import { boundPort, endpointFamily, findScraper, judgePath, shapeProblem, summariseTailnet, type PeerStatus, type PingResult, type StatusDocument } from "../../agent/probes/tailscale";
import { defaultScenario, pingResult, statusDocument, type Scenario, type ScraperPathScenario } from "../helpers/tailscaled";

const doc = (over: Partial<Scenario> = {}) => statusDocument({ ...defaultScenario(), ...over }) as StatusDocument;
const scraperOf = (d: StatusDocument) => findScraper(d, "scraper")!;

describe("findScraper", () => {
  const d = doc();
  it.each([
    ["host name", "scraper"],
    ["host name, other case", "SCRAPER"],
    ["MagicDNS name", "scraper.example-tailnet.ts.net"],
    ["MagicDNS name with the trailing dot", "scraper.example-tailnet.ts.net."],
    ["Tailscale IPv4", "100.64.0.1"],
    ["Tailscale IPv6", "fd7a:115c:a1e0::1"],
    ["Tailscale IPv6, uncompressed and bracketed", "[fd7a:115c:a1e0:0:0:0:0:0001]"],
  ])("matches by %s", (_, wanted) => {
    expect(findScraper(d, wanted)?.ID).toBe("n5CRAPER1CNTRL");
  });

  it("matches nothing for an unknown name, a prefix of a name, or another tailnet's name", () => {
    expect(findScraper(d, "prometheus")).toBeNull();
    expect(findScraper(d, "scrap")).toBeNull();
    expect(findScraper(d, "scraper.other-tailnet.ts.net")).toBeNull();
    expect(findScraper(d, "100.64.0.2")).toBeNull();
  });

  it("finds the other peer by its own name, not the scraper", () => {
    expect(findScraper(d, "laptop")?.HostName).toBe("laptop");
  });

  it("copes with no peers at all", () => {
    expect(findScraper({ BackendState: "Running", Peer: null }, "scraper")).toBeNull();
  });
});

describe("judgePath after a disco ping", () => {
  const judged = (path: ScraperPathScenario) => {
    const s = { ...defaultScenario(), scraperPath: path };
    const d = statusDocument(s) as StatusDocument;
    const ping = pingResult(s, "100.64.0.1") as PingResult | null;
    return judgePath(scraperOf(d), ping, ping ? null : "disco ping to 100.64.0.1 failed: tailscaled did not answer /localapi/v0/ping within 500 ms");
  };

  it("direct over IPv6: endpoint and family from the pong", () => {
    expect(judged("direct6")).toMatchObject({ found: true, online: true, path: "direct", endpoint: "[2001:db8:200:1::1]:41641", family: "ipv6", relay: null, latencyMs: 12.3 });
  });

  it("direct over IPv4", () => {
    expect(judged("direct4")).toMatchObject({ path: "direct", endpoint: "198.51.100.7:41641", family: "ipv4" });
  });

  it("relayed through DERP: the region code", () => {
    expect(judged("relay")).toMatchObject({ path: "relay", relay: "fra", endpoint: null, family: null, latencyMs: 45.6 });
  });

  it("through a peer relay", () => {
    expect(judged("peer-relay")).toMatchObject({ path: "peer-relay", relay: "[2001:db8:300::5]:40000:vni:7", endpoint: null });
  });

  it("offline: no answer to the ping and not online", () => {
    expect(judged("offline")).toMatchObject({ found: true, online: false, path: "offline", endpoint: null });
  });

  it("copies the peer's identity", () => {
    expect(judged("direct6")).toMatchObject({ hostname: "scraper", dnsName: "scraper.example-tailnet.ts.net.", ips: ["100.64.0.1", "fd7a:115c:a1e0::1"] });
  });
});

describe("judgePath from status fields alone (no ping, or the ping failed)", () => {
  const peerFor = (path: ScraperPathScenario) => scraperOf(doc({ scraperPath: path }));

  it("idle: an inactive peer, whatever its home DERP region", () => {
    const peer = peerFor("idle");
    expect(peer.Relay).toBe("fra");
    expect(judgePath(peer, null, null)).toMatchObject({ path: "idle", online: true, relay: null });
  });

  it("Relay alone does not make a path relayed", () => {
    // Every peer carries Relay (its home region); only Active without CurAddr/PeerRelay is relayed.
    const direct = peerFor("direct6");
    expect(direct.Relay).toBe("fra");
    expect(judgePath(direct, null, null)).toMatchObject({ path: "direct", endpoint: "[2001:db8:200:1::1]:41641", family: "ipv6", relay: null });
    const inactive: PeerStatus = { ...direct, CurAddr: "", Active: false };
    expect(judgePath(inactive, null, null).path).toBe("idle");
  });

  it("relay: active, no direct address, no peer relay", () => {
    expect(judgePath(peerFor("relay"), null, null)).toMatchObject({ path: "relay", relay: "fra" });
  });

  it("peer-relay from PeerRelay", () => {
    expect(judgePath(peerFor("peer-relay"), null, null)).toMatchObject({ path: "peer-relay", relay: "[2001:db8:300::5]:40000:vni:7" });
  });

  it("offline from Online false", () => {
    expect(judgePath(peerFor("offline"), null, null)).toMatchObject({ path: "offline", online: false });
  });

  it("a failed ping of an online idle peer is unknown, with the reason", () => {
    const judged = judgePath(peerFor("idle"), null, "disco ping to 100.64.0.1 failed: timeout");
    expect(judged).toMatchObject({ path: "unknown", error: "disco ping to 100.64.0.1 failed: timeout" });
  });

  it("a ping answering with Err falls back to the status fields", () => {
    const judged = judgePath(peerFor("direct4"), { IP: "100.64.0.1", Err: "no matching peer" }, "disco ping to 100.64.0.1 failed: no matching peer");
    expect(judged).toMatchObject({ path: "direct", endpoint: "198.51.100.7:41641", family: "ipv4", error: "disco ping to 100.64.0.1 failed: no matching peer" });
  });

  it("the ping's answer wins over stale status fields", () => {
    // Status still shows an old direct address, but the pong came back through DERP.
    const judged = judgePath(peerFor("direct6"), { IP: "100.64.0.1", DERPRegionID: 4, DERPRegionCode: "fra", LatencySeconds: 0.05 }, null);
    expect(judged).toMatchObject({ path: "relay", relay: "fra", endpoint: null });
  });

  it("no peer: not found, with a reason", () => {
    expect(judgePath(null, null, null)).toMatchObject({ found: false, path: "unknown", error: "no peer in the tailnet matches the configured scraper" });
  });
});

describe("summariseTailnet", () => {
  const scraper = judgePath(null, null, null);

  it("running and tagged", () => {
    const t = summariseTailnet(doc(), "localapi", ["tag:monitor"], scraper);
    expect(t).toMatchObject({
      state: "Running",
      source: "localapi",
      version: "1.90.6-tc0ffee-gdeadbeef",
      hostname: "node1",
      dnsName: "node1.example-tailnet.ts.net",
      ips: ["100.101.102.103", "fd7a:115c:a1e0::1234:5678"],
      tags: ["tag:monitor"],
      missingTags: [],
      port: 41641,
      health: [],
    });
  });

  it("untagged: Tags is absent from the document, every expected tag is missing", () => {
    const d = doc({ selfTags: null });
    expect(d.Self).not.toHaveProperty("Tags");
    expect(summariseTailnet(d, "localapi", ["tag:monitor", "tag:edge"], scraper)).toMatchObject({ tags: [], missingTags: ["tag:monitor", "tag:edge"] });
  });

  it("missing one of the expected tags", () => {
    expect(summariseTailnet(doc({ selfTags: ["tag:edge"] }), "localapi", ["tag:monitor", "tag:edge"], scraper)).toMatchObject({ tags: ["tag:edge"], missingTags: ["tag:monitor"] });
  });

  it("NeedsLogin: no addresses, the health message", () => {
    const t = summariseTailnet(doc({ backendState: "NeedsLogin" }), "localapi", ["tag:monitor"], scraper);
    expect(t).toMatchObject({ state: "NeedsLogin", ips: [], dnsName: "", port: null, health: ["You are logged out."] });
  });

  it("Stopped", () => {
    expect(summariseTailnet(doc({ backendState: "Stopped" }), "localapi", [], scraper)).toMatchObject({ state: "Stopped", ips: [], port: null });
  });
});

describe("boundPort and endpointFamily", () => {
  it("reads the port tailscaled bound from Self.Addrs, not 41641", () => {
    expect(boundPort(doc({ selfAddrs: ["[2001:db8::5]:53211", "192.0.2.1:53211"] }))).toBe(53211);
    expect(boundPort({ Self: { Addrs: null } })).toBeNull();
  });

  it("tells IPv6 from IPv4 endpoints", () => {
    expect(endpointFamily("[2001:db8::1]:41641")).toBe("ipv6");
    expect(endpointFamily("203.0.113.5:41641")).toBe("ipv4");
    expect(endpointFamily("")).toBeNull();
  });
});

describe("shapeProblem", () => {
  it("accepts every document the test server produces", () => {
    for (const backendState of ["Running", "NeedsLogin", "Stopped", "NoState"] as const) expect(shapeProblem(doc({ backendState }))).toBeNull();
  });

  it("names what is wrong with a document of the wrong shape", () => {
    expect(shapeProblem([])).toBe("not a JSON object");
    expect(shapeProblem("Running")).toBe("not a JSON object");
    expect(shapeProblem({ Version: "1.2" })).toBe("no BackendState");
    expect(shapeProblem({ BackendState: "Running", TailscaleIPs: "100.64.0.5" })).toBe("TailscaleIPs is not a list of addresses");
    expect(shapeProblem({ BackendState: "Running", Peer: [] })).toBe("Peer is not a mapping");
    expect(shapeProblem({ BackendState: "Running", Peer: { "nodekey:1": null } })).toBe("Peer[nodekey:1] is not an object");
    expect(shapeProblem({ BackendState: "Running", Self: { Tags: "tag:monitor" } })).toBe("Self.Tags is not a list of strings");
    expect(shapeProblem({ BackendState: "Running", Peer: { k: { HostName: 5 } } })).toBe("Peer[k].HostName is not a string");
  });
});
