// The tailnet probe against the LocalAPI test server on a unix socket (the one allowed stand-in
// for tailscaled): every backend state and scraper path, a ping before judging, and the failure
// modes (socket absent, garbage, a server that never answers).
// Sources in process: one probe against the LocalAPI test server in every state it can be put in;
// the packaged program reads the same server in status.test.ts and doctor.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { probeTailnet, type TailnetProbeOptions } from "../../agent/probes/tailscale";
import type { TailnetState, TailnetUnavailable } from "../../agent/state/node-state";
import { defaultScenario, startFakeTailscaled, type FakeTailscaled, type Scenario } from "../helpers/tailscaled";

let ts: FakeTailscaled;
beforeAll(async () => {
  ts = await startFakeTailscaled();
});
afterAll(() => ts.stop());
afterEach(() => {
  ts.scenario = defaultScenario();
  ts.requests.length = 0;
});

const TIMEOUT = 1000;
function probe(scenario: Partial<Scenario> = {}, options: Partial<TailnetProbeOptions> = {}) {
  ts.scenario = { ...defaultScenario(), ...scenario };
  return probeTailnet({ socket: ts.socket, scraper: "scraper", expectedTags: ["tag:monitor"], timeoutMs: TIMEOUT, ping: true, ...options });
}
const running = async (scenario: Partial<Scenario> = {}, options: Partial<TailnetProbeOptions> = {}) => {
  const result = await probe(scenario, options);
  expect(result.state).toBe("Running");
  return result as TailnetState;
};
const pings = () => ts.requests.filter((r) => r.url.startsWith("/localapi/v0/ping"));

describe("backend states and tags", () => {
  it("running and tagged", async () => {
    const t = await running();
    expect(t).toMatchObject({
      source: "localapi",
      hostname: "node1",
      dnsName: "node1.example-tailnet.ts.net",
      ips: ["100.101.102.103", "fd7a:115c:a1e0::1234:5678"],
      tags: ["tag:monitor"],
      missingTags: [],
      port: 41641,
    });
  });

  it("untagged: every expected tag is missing", async () => {
    const t = await running({ selfTags: null }, { expectedTags: ["tag:monitor", "tag:edge"] });
    expect(t.tags).toEqual([]);
    expect(t.missingTags).toEqual(["tag:monitor", "tag:edge"]);
  });

  it("missing tags: only the ones not carried", async () => {
    const t = await running({ selfTags: ["tag:edge", "tag:other"] }, { expectedTags: ["tag:monitor", "tag:edge"] });
    expect(t.missingTags).toEqual(["tag:monitor"]);
  });

  it("NeedsLogin: no addresses, no ping, the scraper cannot be judged", async () => {
    const t = (await probe({ backendState: "NeedsLogin" })) as TailnetState;
    expect(t).toMatchObject({ state: "NeedsLogin", ips: [], health: ["You are logged out."] });
    expect(t.scraper).toMatchObject({ found: false, path: "unknown", error: "tailscaled is NeedsLogin, not Running: log in with: sudo tailscale up" });
    expect(pings()).toEqual([]);
  });

  it("Stopped", async () => {
    const t = (await probe({ backendState: "Stopped" })) as TailnetState;
    expect(t).toMatchObject({ state: "Stopped", ips: [] });
    expect(t.scraper).toMatchObject({ found: false, error: "tailscaled is Stopped, not Running: start it with: sudo tailscale up" });
  });

  it("reads the port tailscaled really bound", async () => {
    expect((await running({ selfAddrs: ["[2001:db8:100:1::10]:53544", "192.0.2.10:53544"] })).port).toBe(53544);
  });
});

describe("the path to the scraper, after a disco ping", () => {
  it("direct over IPv6", async () => {
    const t = await running({ scraperPath: "direct6" });
    expect(t.scraper).toMatchObject({ found: true, online: true, path: "direct", endpoint: "[2001:db8:200:1::1]:41641", family: "ipv6", relay: null });
    expect(t.scraper.latencyMs).toBeCloseTo(12.3);
  });

  it("direct over IPv4", async () => {
    expect((await running({ scraperPath: "direct4" })).scraper).toMatchObject({ path: "direct", endpoint: "198.51.100.7:41641", family: "ipv4" });
  });

  it("relayed through DERP", async () => {
    expect((await running({ scraperPath: "relay" })).scraper).toMatchObject({ path: "relay", relay: "fra", endpoint: null, family: null });
  });

  it("through a peer relay", async () => {
    expect((await running({ scraperPath: "peer-relay" })).scraper).toMatchObject({ path: "peer-relay", relay: "[2001:db8:300::5]:40000:vni:7" });
  });

  it("idle: without a ping an inactive peer is idle, even though its Relay is set", async () => {
    const t = await running({ scraperPath: "idle" }, { ping: false });
    expect(t.scraper).toMatchObject({ online: true, path: "idle", relay: null });
    expect(pings()).toEqual([]);
  });

  it("idle: a ping wakes the path, and its answer decides", async () => {
    expect((await running({ scraperPath: "idle" })).scraper).toMatchObject({ path: "relay", relay: "fra" });
  });

  it("offline: judged from status, without waiting for a ping tailscaled would never answer", async () => {
    const t = await running({ scraperPath: "offline" });
    expect(t.scraper).toMatchObject({ found: true, online: false, path: "offline" });
    expect(pings()).toEqual([]);
  });

  it("pings the scraper (disco, on its Tailscale IP) before reading the path", async () => {
    await running({ scraperPath: "direct6" });
    expect(ts.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["GET /localapi/v0/status", "POST /localapi/v0/ping?ip=100.64.0.1&type=disco"]);
  });

  it("a ping that never answers leaves the status fields to decide, with the reason", async () => {
    const t = await running({ scraperPath: "direct4", hang: ["ping"] });
    expect(t.scraper).toMatchObject({ path: "direct", endpoint: "198.51.100.7:41641" });
    expect(t.scraper.error).toBe(`disco ping to 100.64.0.1 failed: tailscaled did not answer /localapi/v0/ping?ip=100.64.0.1&type=disco within ${TIMEOUT} ms`);
  });

  it("a ping refused by tailscaled is reported, not thrown", async () => {
    const t = await running({ scraperPath: "relay", raw: { ping: { status: 500, body: '{"error":"no netmap"}' } } });
    expect(t.scraper.path).toBe("relay");
    expect(t.scraper.error).toMatch(/^disco ping to 100\.64\.0\.1 failed: tailscaled answered 500 to POST .*no netmap/);
  });
});

describe("matching the scraper", () => {
  it.each([
    ["host name", "monitor-1"],
    ["MagicDNS name", "monitor-1.example-tailnet.ts.net"],
    ["Tailscale IPv4", "100.88.7.6"],
    ["Tailscale IPv6", "fd7a:115c:a1e0::7:6"],
  ])("by %s", async (_, scraper) => {
    const t = await running({ scraperHostName: "monitor-1", scraperIps: ["100.88.7.6", "fd7a:115c:a1e0::7:6"] }, { scraper });
    expect(t.scraper).toMatchObject({ found: true, hostname: "monitor-1", path: "direct" });
    expect(pings().map((r) => r.url)).toEqual(["/localapi/v0/ping?ip=100.88.7.6&type=disco"]);
  });

  it("no match: not found, no ping", async () => {
    const t = await running({}, { scraper: "grafana" });
    expect(t.scraper).toMatchObject({ found: false, path: "unknown", error: "no peer in the tailnet matches the configured scraper" });
    expect(pings()).toEqual([]);
  });
});

describe("when tailscaled cannot be asked", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ea-ts-absent-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("socket absent and no tailscale CLI: unavailable, every expected tag missing", async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = dir; // a PATH with no tailscale in it
    try {
      const socket = join(dir, "tailscaled.sock");
      const t = (await probeTailnet({ socket, scraper: "scraper", expectedTags: ["tag:monitor"], timeoutMs: TIMEOUT, ping: true })) as TailnetUnavailable;
      expect(t).toEqual({ state: "unavailable", code: "not-installed", error: `tailscaled is not running here: no LocalAPI socket at ${socket} and no tailscale CLI (install Tailscale, then run: sudo tailscale up)`, missingTags: ["tag:monitor"] });
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it("garbage instead of JSON", async () => {
    const t = (await probe({ raw: { status: { status: 200, body: "<html>gateway</html>" } } })) as TailnetUnavailable;
    expect(t.state).toBe("unavailable");
    expect(t.error).toBe(`cannot read tailscaled's status: tailscaled's answer to /localapi/v0/status is not JSON: "<html>gateway</html>"`);
    expect(t.missingTags).toEqual(["tag:monitor"]);
  });

  it("JSON of the wrong shape", async () => {
    const t = (await probe({ raw: { status: { status: 200, body: '{"BackendState":"Running","Peer":{"nodekey:1":{"HostName":["x"]}}}' } } })) as TailnetUnavailable;
    expect(t).toMatchObject({ state: "unavailable", error: "tailscaled's status is not a status document: Peer[nodekey:1].HostName is not a string" });
    const list = (await probe({ raw: { status: { status: 200, body: "[1,2]" } } })) as TailnetUnavailable;
    expect(list.error).toBe("tailscaled's status is not a status document: not a JSON object");
  });

  it("an HTTP error from tailscaled", async () => {
    const t = (await probe({ raw: { status: { status: 403, body: "invalid localapi request\n" } } })) as TailnetUnavailable;
    expect(t.error).toBe("cannot read tailscaled's status: tailscaled answered 403 to GET /localapi/v0/status: invalid localapi request");
  });

  it("a server that never answers: unavailable once the timeout runs out", async () => {
    const t = (await probe({ hang: ["status"] })) as TailnetUnavailable;
    expect(t).toEqual({
      state: "unavailable",
      code: "status-unreadable",
      error: `cannot read tailscaled's status: tailscaled did not answer /localapi/v0/status within ${TIMEOUT} ms`,
      missingTags: ["tag:monitor"],
    });
  });

  it("a socket path nobody listens on", async () => {
    const stale = join(dir, "stale.sock");
    // A socket file left behind by a dead tailscaled: present, but refusing connections.
    const { createServer } = await import("node:net");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(stale, resolve));
    // Closing a listening unix socket in Node unlinks it; re-create the path as a plain file.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const { writeFileSync } = await import("node:fs");
    writeFileSync(stale, "");
    const t = (await probeTailnet({ socket: stale, scraper: "scraper", expectedTags: [], timeoutMs: TIMEOUT, ping: true })) as TailnetUnavailable;
    expect(t.state).toBe("unavailable");
    expect(t.error).toMatch(/^cannot read tailscaled's status: connect (ECONNREFUSED|ENOTSOCK) /);
  });
});
