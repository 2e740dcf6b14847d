// The node-exporter probe against Debian's real prometheus-node-exporter on a free port: up with
// its version, down with the reason once stopped, and whether it answers on the Tailscale IP
// (played by a second loopback address, 127.0.0.2, that the LocalAPI test server reports).
// Sources in process: one probe against the real daemon, case by case; the packaged program's view
// of the same service is in status.test.ts and doctor.test.ts.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromObject, type NodeExporterTls } from "../../agent/config";
import { askService, collectNodeState } from "../../agent/probes/collect";
import { confirmDown } from "../../agent/daemon/confirm-down";
import { probeNodeExporter } from "../../agent/probes/node-exporter";
import { freeTcpPort, waitFor } from "../helpers/ports";
import { makeTestCertificates, type TestCertificates } from "../helpers/certificates";
import { startNodeExporter, TEST_BASIC_AUTH, type NodeExporter } from "../helpers/node-exporter";
import { describeWith } from "../helpers/prereqs";
import { sampleNodeState } from "../helpers/sample-node-state";
import { defaultScenario, startFakeTailscaled, type FakeTailscaled } from "../helpers/tailscaled";

const TIMEOUT = 3000;
const NO_TLS: NodeExporterTls = { caFile: null, serverName: null, insecureSkipVerify: false };
/** The probe's target: a URL, and the TLS settings for an https one. */
const at = (url: string, tls: Partial<NodeExporterTls> = {}) => ({ url, tls: { ...NO_TLS, ...tls } });

/** The version Debian's package reports, read from the binary itself. */
function installedVersion(): string {
  const out = execFileSync("prometheus-node-exporter", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return /version (\d+\.\d+\.\d+)/.exec(out)![1];
}

describeWith({ binaries: ["prometheus-node-exporter"] }, "node-exporter probe (real prometheus-node-exporter)", () => {
  let exporter: NodeExporter;
  beforeAll(async () => {
    exporter = await startNodeExporter();
  });
  afterAll(() => exporter?.stop());

  it("up, with the version node_exporter_build_info carries", async () => {
    const state = await probeNodeExporter(at(exporter.url), [], TIMEOUT);
    expect(state).toEqual({ url: exporter.url, up: true, version: installedVersion(), tailnetReachable: null });
  });

  it("something else answering on the port is not node-exporter", async () => {
    const state = await probeNodeExporter(at(exporter.url.replace("/metrics", "/")), [], TIMEOUT);
    expect(state.up).toBe(false);
    expect(state.error).toBe(`${exporter.url.replace("/metrics", "/")} answered, but not with node-exporter's metrics`);
    expect(state.code).toBe("not-node-exporter");
  });

  describe("behind basic auth (node-exporter's --web.config.file)", () => {
    let guarded: NodeExporter;
    beforeAll(async () => {
      guarded = await startNodeExporter({ basicAuth: true });
    });
    afterAll(() => guarded?.stop());
    const withUserinfo = (userinfo: string) => guarded.url.replace("http://", `http://${userinfo}@`);

    it("up with the credentials in the URL, which the state shows without the password", async () => {
      const state = await probeNodeExporter(at(withUserinfo(`${TEST_BASIC_AUTH.user}:${TEST_BASIC_AUTH.password}`)), [], TIMEOUT);
      expect(state).toEqual({ url: withUserinfo("prom:<secret>"), up: true, version: installedVersion(), tailnetReachable: null });
    });

    it("a wrong password is down saying so, and the password is nowhere in the state", async () => {
      const state = await probeNodeExporter(at(withUserinfo("prom:not-it")), [], TIMEOUT);
      expect(state).toMatchObject({ up: false, url: withUserinfo("prom:<secret>") });
      expect(state.error).toBe(`${withUserinfo("prom:<secret>")} answered HTTP 401: node-exporter refused the URL's credentials`);
      expect(state.code).toBe("http-status");
      expect(JSON.stringify(state)).not.toContain("not-it");
    });

    it("no credentials: down, saying where to put them", async () => {
      const state = await probeNodeExporter(at(guarded.url), [], TIMEOUT);
      expect(state.error).toBe(`${guarded.url} answered HTTP 401: node-exporter asks for basic auth; put user:password@ in probes.nodeExporter.url`);
      expect(state.code).toBe("http-status");
    });
  });

  describeWith({ binaries: ["openssl"] }, "over https (node-exporter's tls_server_config, a certificate from a private CA)", () => {
    let certs: TestCertificates;
    let secured: NodeExporter;
    let ts: FakeTailscaled;
    beforeAll(async () => {
      // The certificate names localhost and 127.0.0.1, not the Tailscale IP (127.0.0.2) that the
      // scraper reaches it by: a scraper sets server_name, and so does the probe.
      certs = makeTestCertificates(["DNS:localhost", "IP:127.0.0.1"]);
      const port = await freeTcpPort();
      secured = await startNodeExporter({ port, listen: [`127.0.0.1:${port}`, `127.0.0.2:${port}`], tls: certs });
      ts = await startFakeTailscaled({ ...defaultScenario(), selfIps: ["127.0.0.2"] });
    });
    afterAll(async () => {
      await secured?.stop();
      await ts?.stop();
      certs?.remove();
    });
    const viaName = () => secured.url.replace("127.0.0.1", "localhost");

    it("with the CA in tls.caFile: up with its version, and reachable on the Tailscale IP under the URL's name", async () => {
      const state = await probeNodeExporter(at(secured.url, { caFile: certs.caFile }), ["127.0.0.2"], TIMEOUT);
      expect(state).toEqual({ url: secured.url, up: true, version: installedVersion(), tailnetReachable: true });
    });

    it("without it: down, saying the certificate is not trusted and which key to set", async () => {
      const state = await probeNodeExporter(at(secured.url), ["127.0.0.2"], TIMEOUT);
      expect(state).toMatchObject({ up: false, tailnetReachable: false });
      expect(state.error).toBe(`${secured.url}: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); set probes.nodeExporter.tls.caFile to the CA that signed node-exporter's certificate`);
      expect(await probeNodeExporter(at(secured.url, { caFile: certs.otherCaFile }), [], TIMEOUT)).toMatchObject({ up: false, error: state.error });
    });

    it("a name the certificate does not carry is down, saying which key to set; serverName fixes it", async () => {
      const wrong = await probeNodeExporter(at(secured.url, { caFile: certs.caFile, serverName: "node1.example" }), [], TIMEOUT);
      expect(wrong.up).toBe(false);
      expect(wrong.error).toBe(`${secured.url}: Hostname/IP does not match certificate's altnames: Host: node1.example. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1 (ERR_TLS_CERT_ALTNAME_INVALID); set probes.nodeExporter.tls.serverName to a name node-exporter's certificate carries`);
      const byName = await probeNodeExporter(at(secured.url.replace("127.0.0.1", "127.0.0.2"), { caFile: certs.caFile, serverName: "localhost" }), [], TIMEOUT);
      expect(byName).toMatchObject({ up: true, version: installedVersion() });
      expect((await probeNodeExporter(at(viaName(), { caFile: certs.caFile }), [], TIMEOUT)).up).toBe(true);
    });

    it("insecureSkipVerify: up without the CA", async () => {
      expect(await probeNodeExporter(at(secured.url, { insecureSkipVerify: true }), ["127.0.0.2"], TIMEOUT)).toMatchObject({ up: true, tailnetReachable: true });
    });

    it("an unreadable tls.caFile is down, naming the key and the file; neither address is asked", async () => {
      const state = await probeNodeExporter(at(secured.url, { caFile: "/nonexistent/ca.pem" }), ["127.0.0.2"], TIMEOUT);
      expect(state).toEqual({ url: secured.url, up: false, version: null, tailnetReachable: null, code: "tls", error: "cannot read probes.nodeExporter.tls.caFile: ENOENT: no such file or directory, open '/nonexistent/ca.pem'" });
    });

    it("the whole snapshot, from the config keys", async () => {
      const config = configFromObject({ tailscale: { socket: ts.socket }, probes: { timeout: "3s", nodeExporter: { url: secured.url, tls: { caFile: certs.caFile } }, snmpd: { port: 9 } } }, null);
      const state = await collectNodeState(config);
      expect(state.services.nodeExporter).toMatchObject({ up: true, tailnetReachable: true });
    });
  });

  it("stopped: down, with the reason", async () => {
    const stopped = await startNodeExporter();
    expect((await probeNodeExporter(at(stopped.url), [], TIMEOUT)).up).toBe(true);
    await stopped.stop();
    const state = await probeNodeExporter(at(stopped.url), [], TIMEOUT);
    expect(state).toMatchObject({ up: false, version: null, tailnetReachable: null });
    expect(state.error).toBe(`${stopped.url}: connect ECONNREFUSED 127.0.0.1:${stopped.port}`);
    expect(state.code).toBe("not-listening");
  });

  describe("one answer missed (node-exporter frozen with SIGSTOP), as a loaded host misses one", () => {
    let frozen: NodeExporter;
    beforeAll(async () => {
      frozen = await startNodeExporter();
    });
    afterAll(async () => {
      frozen?.child.kill("SIGCONT");
      await frozen?.stop();
    });
    const config = () => configFromObject({ tailscale: { socket: "/nonexistent/tailscaled.sock" }, probes: { timeout: "1s", nodeExporter: { url: frozen.url }, snmpd: { port: 9 } } }, null);

    /** Connections waiting in the listening socket's accept queue (/proc/net/tcp's rx_queue of a LISTEN row). */
    function acceptQueue(port: number): number {
      const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
      const row = readFileSync("/proc/net/tcp", "utf8").split("\n").map((l) => l.trim().split(/\s+/)).find((f) => f[1] === local && f[3] === "0A");
      return row ? parseInt(row[4].split(":")[1], 16) : 0;
    }

    it("a node-exporter that was up is asked again, and a late answer is still up", async () => {
      frozen.child.kill("SIGSTOP");
      // The daemon's second look (agent/daemon/confirm-down.ts) after a snapshot where it was up.
      const collecting = collectNodeState(config(), { ping: false }).then((state) => confirmDown(sampleNodeState(), state, (service, ips) => askService(config(), service, ips)));
      try {
        // The first ask times out in the queue; thaw it once the second ask has queued behind it.
        await waitFor("the second ask in node-exporter's accept queue", () => acceptQueue(frozen.port) >= 2, 10_000, 20);
      } finally {
        frozen.child.kill("SIGCONT");
      }
      const state = await collecting;
      expect(state.services.nodeExporter).toMatchObject({ up: true, version: installedVersion() });
    });

    it("without a previous up (status, doctor, a first cycle) one silence is down", async () => {
      frozen.child.kill("SIGSTOP");
      try {
        const state = await collectNodeState(config(), { ping: false });
        expect(state.services.nodeExporter).toMatchObject({ up: false, error: `${frozen.url} did not answer within 1000 ms` });
        expect(state.services.nodeExporter.code).toBe("timeout");
      } finally {
        frozen.child.kill("SIGCONT");
      }
    });
  });

  describe("tailnetReachable, with the Tailscale IP from the LocalAPI", () => {
    let ts: FakeTailscaled;
    beforeAll(async () => {
      ts = await startFakeTailscaled({ ...defaultScenario(), selfIps: ["127.0.0.2"] });
    });
    afterAll(() => ts?.stop());

    const stateFor = (url: string) =>
      collectNodeState(configFromObject({ tailscale: { socket: ts.socket }, probes: { timeout: "3s", nodeExporter: { url }, snmpd: { port: 9 } } }, null));

    it("true when node-exporter listens on the Tailscale IP too", async () => {
      const port = await freeTcpPort();
      const both = await startNodeExporter({ port, listen: [`127.0.0.1:${port}`, `127.0.0.2:${port}`] });
      try {
        const state = await stateFor(`http://127.0.0.1:${port}/metrics`);
        expect(state.tailnet).toMatchObject({ state: "Running", ips: ["127.0.0.2"] });
        expect(state.services.nodeExporter).toMatchObject({ up: true, tailnetReachable: true });
        expect(state.services.nodeExporter.tailnetError).toBeUndefined();
      } finally {
        await both.stop();
      }
    });

    it("false, with the reason, when it listens only on 127.0.0.1", async () => {
      const state = await stateFor(exporter.url);
      expect(state.services.nodeExporter).toMatchObject({ up: true, tailnetReachable: false });
      expect(state.services.nodeExporter.tailnetError).toBe(`http://127.0.0.2:${exporter.port}/metrics: connect ECONNREFUSED 127.0.0.2:${exporter.port}`);
    });

    it("null when tailscaled reports no Tailscale IP", async () => {
      ts.scenario = { ...defaultScenario(), backendState: "NeedsLogin" };
      try {
        const state = await stateFor(exporter.url);
        expect(state.services.nodeExporter).toMatchObject({ up: true, tailnetReachable: null });
      } finally {
        ts.scenario = { ...defaultScenario(), selfIps: ["127.0.0.2"] };
      }
    });
  });
});

