// The firewall part of a local snapshot under its deadline: a ruleset read slower than the probe
// timeout still yields verdicts, and only a probe that overruns twice the timeout is unavailable.
// A full snapshot's slow parts overlap: the disco ping, the services and the ruleset read.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configFromObject } from "../../agent/config";
import { parseNftJson } from "../../agent/firewall/nft-json";
import { collectLocalState, collectNodeState } from "../../agent/probes/collect";
import { freeUdpPort } from "../helpers/ports";
import { sampleNodeState } from "../helpers/sample-node-state";
import { defaultScenario, startFakeTailscaled } from "../helpers/tailscaled";

const dir = mkdtempSync(join(tmpdir(), "ea-collect-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ifInet6Path = join(dir, "if_inet6");
writeFileSync(ifInet6Path, "20010db8010000010000000000000010 02 40 00 80     eth0\n");

const TIMEOUT_MS = 200;
// 2001:db8::/32 counts as global only inside a configured allocation.
const config = configFromObject({ probes: { timeout: `${TIMEOUT_MS}ms` }, ipv6: { allocations: ["2001:db8:100::/56"] } }, null);
const ACCEPT_41641 = parseNftJson(JSON.stringify({ nftables: [
  { metainfo: { json_schema_version: 1 } },
  { table: { family: "inet", name: "filter" } },
  { chain: { family: "inet", table: "filter", name: "input", type: "filter", hook: "input", prio: 0, policy: "drop" } },
  { rule: { family: "inet", table: "filter", chain: "input", handle: 4, expr: [{ match: { op: "==", left: { payload: { protocol: "udp", field: "dport" } }, right: 41641 } }, { accept: null }] } },
] }));

/** A ruleset read that answers after `ms`, as nft does on a loaded host. */
const readAfter = (ms: number) => () => new Promise<{ ruleset: typeof ACCEPT_41641; backend: string }>((resolve) => setTimeout(() => resolve({ ruleset: ACCEPT_41641, backend: "nftables" }), ms));

describe("a local snapshot's firewall probe", () => {
  it("gives verdicts when reading and parsing the ruleset take longer than one timeout", async () => {
    const state = await collectLocalState(config, sampleNodeState(), { ifInet6Path, readRuleset: readAfter(TIMEOUT_MS * 1.4) });
    expect(state.firewall).toMatchObject({ state: "ok", port: 41641, backend: "nftables" });
    expect(state.firewall && "checks" in state.firewall ? state.firewall.checks[0] : null).toMatchObject({ id: "inbound-ipv6", verdict: "accept" });
  });

  it("is unavailable, saying after how long, when the probe overruns twice the timeout", async () => {
    const state = await collectLocalState(config, sampleNodeState(), { ifInet6Path, readRuleset: readAfter(TIMEOUT_MS * 4) });
    expect(state.firewall).toEqual({ state: "unavailable", code: "timeout", error: `the firewall probe did not answer within ${TIMEOUT_MS * 2} ms` });
  });
});

describe("a full snapshot", () => {
  it("asks the services while the disco ping is out and reads the ruleset beside the tailnet probe, so the slow three overlap", async () => {
    // The ping never answers (one timeout); node-exporter accepts and never answers (one timeout);
    // the ruleset takes most of one: in sequence that is two timeouts and more, overlapped one.
    const timeoutMs = 600;
    const tailscaled = await startFakeTailscaled({ ...defaultScenario(), selfIps: ["127.0.0.2"], hang: ["ping"] });
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    const port = (silent.address() as { port: number }).port;
    try {
      const full = configFromObject(
        {
          probes: { timeout: `${timeoutMs}ms`, nodeExporter: { url: `http://127.0.0.1:${port}/metrics` }, snmpd: { port: await freeUdpPort() } },
          tailscale: { socket: tailscaled.socket },
          ipv6: { allocations: ["2001:db8:100::/56"] },
        },
        null,
      );
      const start = performance.now();
      const state = await collectNodeState(full, { ping: true, ifInet6Path, readRuleset: readAfter(timeoutMs * 0.8) });
      const ms = performance.now() - start;
      expect(state.tailnet).toMatchObject({ state: "Running", ips: ["127.0.0.2"], scraper: { error: expect.stringContaining("disco ping to") } });
      expect(state.services.nodeExporter).toMatchObject({ up: false, error: expect.stringContaining(`${timeoutMs} ms`) });
      expect(state.firewall).toMatchObject({ state: "ok", backend: "nftables" });
      expect(ms).toBeLessThan(timeoutMs * 1.7);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
      await tailscaled.stop();
    }
  });
});
