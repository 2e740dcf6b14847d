// `edge-agent doctor` through the real CLI, against real components: a node's addresses in a
// network namespace, Debian's node-exporter and snmpd inside it, the tailscaled LocalAPI test
// server for each scenario, real /etc/hosts resolution, and exit codes.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_VERSION } from "../../agent/version";
import { BUNDLE } from "../helpers/bundle";
import { runAgent, type CliRun } from "../helpers/cli";
import { createNetns, type Netns } from "../helpers/netns";
import { makeTestCertificates } from "../helpers/certificates";
import { startNodeExporter, TEST_BASIC_AUTH, type NodeExporter } from "../helpers/node-exporter";
import { waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import type { Daemon } from "../helpers/process";
import { startUnit } from "../helpers/unit-exec";
import { startSnmpd, type Snmpd } from "../helpers/snmpd";
import { startSnmptrapd, type Snmptrapd } from "../helpers/snmptrapd";
import { defaultScenario, seedFilterRules, startFakeTailscaled, type FakeTailscaled, type Scenario } from "../helpers/tailscaled";

const TAILNET_V4 = "100.101.102.103";
const TAILNET_V6 = "fd7a:115c:a1e0::1234:5678";

interface Run extends CliRun {
  /** Killed by the runner's timeout rather than exiting by itself. */
  killed: boolean;
}

/** `edge-agent doctor ...` through the launcher, with the colour variables of the test run cleared. */
async function doctor(args: string[], options: { netns?: string; env?: NodeJS.ProcessEnv; via?: string[] } = {}): Promise<Run> {
  const env = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...options.env };
  const run = await runAgent(["doctor", ...args], { netns: options.netns, env, via: options.via, timeoutMs: 60_000 });
  return { ...run, killed: run.code === -1 };
}

type JsonCheck = { id: string; group: string; status: string; finding: string; fix: string | null; durationMs: number };
function parse(run: Run): { checks: JsonCheck[]; summary: Record<string, number> } {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`doctor did not print JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}
function byId(run: Run): Record<string, JsonCheck> {
  return Object.fromEntries(parse(run).checks.map((c) => [c.id, c]));
}
const only = (...ids: string[]) => ids.flatMap((id) => ["--check", id]);

/** A namespace shaped like a node: eth0 with the given addresses, tailscale0 with its tailnet IPs. */
function nodeNetns(addresses: { ipv4?: string; ipv6?: string }): Netns {
  const ns = createNetns("eadoc");
  try {
    // veth pairs with both ends inside: containers often lack the dummy module.
    for (const link of ["eth0", "tailscale0"]) {
      ns.exec("ip", ["link", "add", link, "type", "veth", "peer", "name", `${link}-peer`]);
      ns.exec("ip", ["link", "set", `${link}-peer`, "up"]);
      ns.exec("ip", ["link", "set", link, "up"]);
    }
    if (addresses.ipv4) ns.exec("ip", ["addr", "add", addresses.ipv4, "dev", "eth0"]);
    if (addresses.ipv6) ns.exec("ip", ["-6", "addr", "add", addresses.ipv6, "dev", "eth0", "nodad"]);
    ns.exec("ip", ["addr", "add", `${TAILNET_V4}/32`, "dev", "tailscale0"]);
    ns.exec("ip", ["-6", "addr", "add", `${TAILNET_V6}/128`, "dev", "tailscale0", "nodad"]);
  } catch (error) {
    ns.remove();
    throw error;
  }
  return ns;
}

/** node-exporter in a namespace has no readiness wait in its helper: watch for its listener. */
async function tcpListening(ns: Netns, port: number): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  await waitFor(`a TCP listener on ${port} in ${ns.name}`, () =>
    ["tcp", "tcp6"].some((t) => readFileSync(`/proc/${ns.anchorPid}/net/${t}`, "utf8").split("\n").some((l) => l.includes(hex) && / 0A /.test(l))),
  );
}

function writeConfig(dir: string, name: string, config: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o640 });
  return path;
}

/** Volatile parts of the output (pids, temporary paths, timings) spelled as placeholders. */
function normalise(text: string, dir: string): string {
  return text
    .split(dir).join("<tmp>")
    .replace(/pid \d+/g, "pid <n>")
    .replace(/ in (\d+(\.\d)? s|\d+ ms) —/g, " in <t> —")
    .replace(/\d+(\.\d+)? ms\b/g, "<n> ms")
    .replace(/prometheus-node-exporter \d[\w.+~-]*/g, "prometheus-node-exporter <version>")
    .replace(/node-exporter \d[\w.+~-]* answers/g, "node-exporter <version> answers")
    .replace(/\(Linux [^)]*\)/g, "(<sysDescr>)");
}

describeWith({ root: true, binaries: ["ip", "nft", "setpriv", "snmpd", "snmpget", "snmptrapd", "prometheus-node-exporter", "openssl"] }, "edge-agent doctor (CLI, real components)", () => {
  let dir: string;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ea-doctor-"));
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("a node set up as the design wants", () => {
    let ns: Netns;
    let tailscaled: FakeTailscaled;
    let config: string;
    let stockViewConfig: string;
    let agent: Daemon;
    beforeAll(async () => {
      ns = nodeNetns({ ipv4: "100.80.1.2/24", ipv6: "2001:db8:100:1::10/64" });
      cleanups.push(() => ns.remove());
      tailscaled = await startFakeTailscaled(defaultScenario());
      cleanups.push(() => tailscaled.stop());
      const textfile = mkdtempSync(join(dir, "textfile-good-"));
      const ne: NodeExporter = await startNodeExporter({ netns: ns.name, listen: ":9100", port: 9100, textfileDir: textfile });
      cleanups.push(() => ne.stop());
      const snmpd: Snmpd = await startSnmpd({
        netns: ns.name,
        port: 161,
        listen: ["udp:0.0.0.0:161", "udp6:[::]:161"],
        extra: [
          "rocommunity edgetest 100.64.0.0/10",
          "rocommunity6 edgetest fd7a:115c:a1e0::/48",
          // A community whose view is Debian's stock systemonly: the agent's subtree is not in it.
          "view systemonly included .1.3.6.1.2.1.1",
          "rocommunity stockview 127.0.0.1 -V systemonly",
          "rocommunity stockview 100.64.0.0/10 -V systemonly",
          "rocommunity6 stockview fd7a:115c:a1e0::/48 -V systemonly",
          "master agentx",
          "agentXSocket tcp:127.0.0.1:705",
        ],
      });
      cleanups.push(() => snmpd.stop());
      await tcpListening(ns, 9100);
      const settings = {
        scraper: "scraper",
        tailscale: { socket: tailscaled.socket, expectedTags: ["tag:monitor"] },
        ipv6: { allocations: ["2001:db8:100::/56"] },
        probes: { timeout: "3s", nodeExporter: { url: "http://127.0.0.1:9100/metrics" }, snmpd: { host: "127.0.0.1", port: 161, community: "edgetest" } },
        textfile: { directory: textfile },
        agentx: { master: "tcp:127.0.0.1:705" },
      };
      config = writeConfig(dir, "good.yaml", settings);
      stockViewConfig = writeConfig(dir, "stock-view.yaml", { ...settings, probes: { ...settings.probes, snmpd: { ...settings.probes.snmpd, community: "stockview" } } });
      // The daemon serves the AgentX objects doctor reads through snmpd, as the package runs it.
      const daemonConfig = writeConfig(dir, "good-daemon.yaml", { ...settings, run: { interval: "1s" }, notifications: { target: "127.0.0.1:1", inform: false, outbox: join(dir, "good-outbox") } });
      agent = startUnit(["run", "--config", daemonConfig], { netns: ns.name });
      cleanups.push(() => agent.stop());
      await waitFor("the daemon to register its AgentX objects", () => /^edge_agent_agentx_registered 1$/m.test(readFileSync(join(textfile, "edge_agent.prom"), "utf8")), 30_000, 200).catch((error) => {
        throw new Error(`${(error as Error).message}\n${agent.output().slice(-3000)}`);
      });
    });

    it("passes every node check and exits 0", async () => {
      const ids = ["config", "ipv6-prefix", "ipv4-nat", "tailscaled", "tags", "scraper-path", "tailnet-policy", "firewall-port", "node-exporter", "snmpd", "textfile-dir", "agentx"];
      const run = await doctor(["--config", config, "--json", ...only(...ids)], { netns: ns.name });
      const checks = byId(run);
      expect(Object.fromEntries(ids.map((id) => [id, `${checks[id]?.status}: ${checks[id]?.finding}`]))).toEqual(Object.fromEntries(ids.map((id) => [id, expect.stringMatching(/^ok: /)])));
      expect(checks["ipv6-prefix"].finding).toBe("2001:db8:100:1::/64 on eth0, inside 2001:db8:100::/56");
      expect(checks["ipv4-nat"].finding).toBe("IPv4 only behind carrier-grade NAT (100.80.1.2 on eth0); the global IPv6 /64 keeps tailnet paths direct");
      expect(checks["scraper-path"].finding).toMatch(/^direct over IPv6 to scraper\.example-tailnet\.ts\.net via \[2001:db8:200:1::1\]:41641/);
      expect(checks["firewall-port"].finding).toMatch(/^tailscaled's UDP 41641 passes (through nftables|with no firewall ruleset loaded): in over IPv6, out over IPv6; not asked in over IPv4, out over IPv4: /);
      expect(checks["node-exporter"].finding).toMatch(/answers at http:\/\/127\.0\.0\.1:9100\/metrics and on the Tailscale IP$/);
      expect(checks["textfile-dir"].finding).toMatch(/^.* is writable and is node-exporter's textfile directory \(per prometheus-node-exporter pid \d+'s arguments\)$/);
      expect(parse(run).summary).toMatchObject({ total: ids.length, ok: ids.length, exitCode: 0 });
      expect(run.code).toBe(0);
    });

    it("agentx: ok because edgeAgentVersion.0 answers through snmpd; a view that hides the subtree fails naming it", async () => {
      const served = byId(await doctor(["--config", config, "--json", ...only("agentx")], { netns: ns.name })).agentx;
      expect(served).toMatchObject({ status: "ok", finding: `snmpd at 127.0.0.1:161 serves EDGE-AGENT-MIB through AgentX to community "edgetest": edgeAgentVersion.0 (1.3.6.1.3.9163.1.19.0) = ${AGENT_VERSION}` });
      const hidden = await doctor(["--config", stockViewConfig, "--json", ...only("snmpd", "agentx")], { netns: ns.name });
      expect(byId(hidden).snmpd.status, "sysDescr is in the stock view").toBe("ok");
      expect(byId(hidden).agentx).toMatchObject({
        status: "fail",
        finding: `snmpd at 127.0.0.1:161 has no edgeAgentVersion.0 (1.3.6.1.3.9163.1.19.0) for community "stockview", though edge-agent's objects are registered: snmpd's view for community "stockview" does not include 1.3.6.1.3.9163.1`,
        fix: `in /etc/snmp/snmpd.conf.d/edge-agent.conf: view systemonly included .1.3.6.1.3.9163.1 (or that line for the view community "stockview" uses), then sudo systemctl restart snmpd`,
      });
      expect(hidden.code).toBe(1);
    });

    it("agentx: with the daemon stopped, says no edge-agent run serves the objects", async () => {
      // Last in this block: the node checks above need the daemon.
      await agent.stop();
      const stopped = byId(await doctor(["--config", config, "--json", ...only("agentx")], { netns: ns.name })).agentx;
      expect(stopped).toMatchObject({ status: "fail", finding: "snmpd at 127.0.0.1:161 has no edgeAgentVersion.0 (1.3.6.1.3.9163.1.19.0): no edge-agent run is running here to serve it" });
    // Starting the unit needs it installed: until the package is, the fix says to install it first.
    const unit = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"].some((d) => existsSync(join(d, "edge-agent.service")));
    expect(stopped.fix).toBe(unit ? "sudo systemctl enable --now edge-agent" : "install the edge-agent package first (it ships edge-agent.service), then: sudo systemctl enable --now edge-agent");
    });

    it("as an unprivileged user: firewall-port is skipped saying to use sudo; a root-only textfile directory fails", async () => {
      // A directory any user can search, with a config they can read and a textfile directory only root can write.
      const open = mkdtempSync(join(tmpdir(), "ea-doctor-nobody-"));
      cleanups.push(() => rmSync(open, { recursive: true, force: true }));
      chmodSync(open, 0o755);
      mkdirSync(join(open, "textfile"), { mode: 0o755 });
      const readable = join(open, "config.yaml");
      writeFileSync(readable, JSON.stringify({ ...JSON.parse(readFileSync(config, "utf8")), textfile: { directory: join(open, "textfile") } }), { mode: 0o644 });
      const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", process.execPath, BUNDLE];
      const run = await doctor(["--config", readable, "--json", ...only("firewall-port", "textfile-dir")], { netns: ns.name, via: nobody });
      const c = byId(run);
      expect(c["firewall-port"]).toMatchObject({ status: "skip", finding: expect.stringContaining("CAP_NET_ADMIN"), fix: "sudo edge-agent doctor --check firewall-port" });
      expect(c["textfile-dir"]).toMatchObject({ status: "fail", finding: expect.stringMatching(/textfile is not writable: EACCES/), fix: expect.stringContaining("sudo chown edge-agent") });
      expect(run.code).toBe(1);
    });

    describe("magicdns, through the real resolver (the namespace's own /etc/netns/NAME/hosts)", () => {
      const withHosts = (hosts: string) => {
        mkdirSync(`/etc/netns/${ns.name}`, { recursive: true });
        writeFileSync(`/etc/netns/${ns.name}/hosts`, hosts);
      };
      afterAll(() => rmSync(`/etc/netns/${ns.name}`, { recursive: true, force: true }));
      it("is ok when the scraper's name resolves to its Tailscale IP", async () => {
        withHosts("127.0.0.1 localhost\n100.64.0.1 scraper\n");
        const run = await doctor(["--config", config, "--json", "--check", "magicdns"], { netns: ns.name });
        expect(byId(run).magicdns).toMatchObject({ status: "ok", finding: '"scraper" resolves to 100.64.0.1, the scraper\'s Tailscale IP' });
        expect(run.code).toBe(0);
      });
      it("fails when it resolves elsewhere, offering the MagicDNS name", async () => {
        withHosts("127.0.0.1 localhost\n192.0.2.80 scraper\n");
        const run = await doctor(["--config", config, "--json", "--check", "magicdns"], { netns: ns.name });
        expect(byId(run).magicdns).toMatchObject({ status: "fail", finding: expect.stringContaining("resolves to 192.0.2.80, not the scraper's Tailscale IPs"), fix: expect.stringContaining("scraper: scraper.example-tailnet.ts.net") });
        expect(run.code).toBe(1);
      });
    });

    describe("notification: a test inform to a real snmptrapd in the namespace", () => {
      let trapd: Snmptrapd;
      beforeAll(async () => {
        trapd = await startSnmptrapd({ netns: ns.name });
        cleanups.push(() => trapd.stop());
      });
      const withTarget = (name: string, target: string, timeout = "3s") =>
        writeConfig(dir, name, { ...JSON.parse(readFileSync(config, "utf8")), notifications: { target, version: "2c", community: "edgetest", inform: true, timeout, retries: 1 } });
      it("is ok when the inform is acknowledged, with its round-trip time", async () => {
        const run = await doctor(["--config", withTarget("notify-ok.yaml", `127.0.0.1:${trapd.port}`), "--json", "--check", "notification"], { netns: ns.name });
        expect(byId(run).notification).toMatchObject({ status: "ok", finding: expect.stringMatching(new RegExp(`^inform to 127\\.0\\.0\\.1:${trapd.port} \\(.*\\) acknowledged in [\\d.]+ ms$`)) });
        expect(trapd.received().map((n) => n.name)).toContain("EDGE-AGENT-MIB::edgeAgentTest");
        expect(run.code).toBe(0);
      });
      it("fails naming what to check when nothing acknowledges", async () => {
        const run = await doctor(["--config", withTarget("notify-silent.yaml", `127.0.0.1:${trapd.port + 1}`, "1s"), "--json", "--check", "notification"], { netns: ns.name });
        expect(byId(run).notification).toMatchObject({ status: "fail", finding: expect.stringContaining(`no acknowledgement from 127.0.0.1:${trapd.port + 1}`), fix: expect.stringContaining("tag:scraper:162/udp") });
        expect(run.code).toBe(1);
      });
    });
  });

  describe("a node behind CGNAT with nothing set up right", () => {
    let ns: Netns;
    let config: string;
    beforeAll(async () => {
      ns = nodeNetns({ ipv4: "100.80.1.2/24" });
      cleanups.push(() => ns.remove());
      const tailscaled = await startFakeTailscaled({ ...defaultScenario(), scraperPath: "relay", selfTags: null });
      cleanups.push(() => tailscaled.stop());
      const neDir = mkdtempSync(join(dir, "textfile-ne-"));
      const ourDir = mkdtempSync(join(dir, "textfile-ours-"));
      const ne = await startNodeExporter({ netns: ns.name, listen: "127.0.0.1:9100", port: 9100, textfileDir: neDir });
      cleanups.push(() => ne.stop());
      const snmpd = await startSnmpd({ netns: ns.name, port: 161, listen: ["udp:127.0.0.1:161"] });
      cleanups.push(() => snmpd.stop());
      await tcpListening(ns, 9100);
      config = writeConfig(dir, "bad.yaml", {
        scraper: "scraper",
        tailscale: { socket: tailscaled.socket },
        ipv6: { allocations: ["2001:db8:100::/56"] },
        probes: { timeout: "3s", snmpd: { community: "edgetest" } },
        textfile: { directory: ourDir },
      });
    });
    const ids = ["ipv6-prefix", "ipv4-nat", "tailscaled", "tags", "scraper-path", "node-exporter", "snmpd", "textfile-dir", "agentx"];

    it("names each problem with its fix and exits 1", async () => {
      const run = await doctor(["--config", config, "--json", ...only(...ids)], { netns: ns.name });
      const c = byId(run);
      expect(Object.fromEntries(ids.map((id) => [id, c[id].status]))).toEqual({
        "ipv6-prefix": "warn",
        "ipv4-nat": "warn",
        tailscaled: "ok",
        tags: "fail",
        "scraper-path": "warn",
        "node-exporter": "fail",
        snmpd: "fail",
        "textfile-dir": "fail",
        agentx: "fail",
      });
      expect(c["ipv4-nat"].finding).toBe("IPv4 only behind carrier-grade NAT (100.80.1.2 on eth0) and no global IPv6: paths to the scraper will go relayed through DERP");
      expect(c.tags.fix).toContain("sudo tailscale up --advertise-tags=tag:monitor");
      expect(c["scraper-path"].finding).toContain("relayed through DERP fra");
      expect(c["scraper-path"].finding).toContain("no global IPv6 /64 and its IPv4 is behind carrier-grade NAT");

      expect(c["node-exporter"].finding).toContain(`not on the Tailscale IP ${TAILNET_V4}`);
      expect(c["node-exporter"].fix).toContain("--web.listen-address=:9100");
      expect(c.snmpd.finding).toContain(`not on the Tailscale IP ${TAILNET_V4}`);
      expect(c["textfile-dir"].finding).toContain(`reads ${join(dir, "textfile-ne-")}`);
      expect(c["textfile-dir"].fix).toMatch(/^textfile: \{ directory: .*textfile-ne-/);
      expect(c.agentx.finding).toBe("nothing listens on tcp:127.0.0.1:705: snmpd is not an AgentX master there");
      expect(run.code).toBe(1);
    });

    it("prints the terminal form (FORCE_COLOR) and the ASCII form (NO_COLOR, pipes)", async () => {
      const tty = await doctor(["--config", config, ...only("ipv4-nat", "tags", "agentx")], { netns: ns.name, env: { FORCE_COLOR: "1" } });
      expect(normalise(tty.stdout, dir).replace(/\x1b\[(\d+)m/g, "<$1>")).toMatchInlineSnapshot(`
        "<1>Addresses<0>
          <33>!<0> ipv4-nat  IPv4 only behind carrier-grade NAT (100.80.1.2 on eth0) and no global IPv6: paths to the scraper will go relayed through DERP
                      <2>fix:<0> give this host's subnet a global /64 by router advertisements (then \`ip -6 addr show scope global\` lists it)

        <1>Tailnet<0>
          <31>✗<0> tags      missing tag:monitor (has no tags): the tailnet policy's rules for tag:monitor do not apply to this node
                      <2>fix:<0> sudo tailscale up --advertise-tags=tag:monitor (the policy's tagOwners must let you apply it)

        <1>Outputs (textfile, AgentX, notifications)<0>
          <31>✗<0> agentx    nothing listens on tcp:127.0.0.1:705: snmpd is not an AgentX master there
                      <2>fix:<0> in /etc/snmp/snmpd.conf.d/edge-agent.conf: master agentx; agentXSocket tcp:127.0.0.1:705,unix:/var/agentx/master; view systemonly included .1.3.6.1.3.9163.1 (one per line), then sudo systemctl restart snmpd

        <31>3 checks: 0 ok, 1 warning, 2 failures, 0 skipped in <t> — monitoring is broken here<0>
        "
      `);
      const ascii = await doctor(["--config", config, ...only("ipv4-nat", "tags", "agentx")], { netns: ns.name, env: { NO_COLOR: "1", FORCE_COLOR: "1" } });
      expect(normalise(ascii.stdout, dir)).toMatchInlineSnapshot(`
        "Addresses
          [warn] ipv4-nat  IPv4 only behind carrier-grade NAT (100.80.1.2 on eth0) and no global IPv6: paths to the scraper will go relayed through DERP
                           fix: give this host's subnet a global /64 by router advertisements (then \`ip -6 addr show scope global\` lists it)

        Tailnet
          [FAIL] tags      missing tag:monitor (has no tags): the tailnet policy's rules for tag:monitor do not apply to this node
                           fix: sudo tailscale up --advertise-tags=tag:monitor (the policy's tagOwners must let you apply it)

        Outputs (textfile, AgentX, notifications)
          [FAIL] agentx    nothing listens on tcp:127.0.0.1:705: snmpd is not an AgentX master there
                           fix: in /etc/snmp/snmpd.conf.d/edge-agent.conf: master agentx; agentXSocket tcp:127.0.0.1:705,unix:/var/agentx/master; view systemonly included .1.3.6.1.3.9163.1 (one per line), then sudo systemctl restart snmpd

        3 checks: 0 ok, 1 warning, 2 failures, 0 skipped in <t> — monitoring is broken here
        "
      `);
      expect(tty.code).toBe(1);
      expect(ascii.code).toBe(1);
    });

    it("prints the JSON form", async () => {
      const run = await doctor(["--config", config, "--json", ...only("ipv4-nat", "tags", "agentx")], { netns: ns.name });
      const doc = parse(run);
      for (const c of doc.checks) expect(c.durationMs).toBeGreaterThanOrEqual(0);
      expect(doc.summary.durationMs).toBeGreaterThan(0);
      const stable = { checks: doc.checks.map((c) => ({ ...c, durationMs: "<n>" })), summary: { ...doc.summary, durationMs: "<n>" } };
      expect(stable).toMatchInlineSnapshot(`
        {
          "checks": [
            {
              "durationMs": "<n>",
              "finding": "IPv4 only behind carrier-grade NAT (100.80.1.2 on eth0) and no global IPv6: paths to the scraper will go relayed through DERP",
              "fix": "give this host's subnet a global /64 by router advertisements (then \`ip -6 addr show scope global\` lists it)",
              "group": "addresses",
              "id": "ipv4-nat",
              "status": "warn",
            },
            {
              "durationMs": "<n>",
              "finding": "missing tag:monitor (has no tags): the tailnet policy's rules for tag:monitor do not apply to this node",
              "fix": "sudo tailscale up --advertise-tags=tag:monitor (the policy's tagOwners must let you apply it)",
              "group": "tailnet",
              "id": "tags",
              "status": "fail",
            },
            {
              "durationMs": "<n>",
              "finding": "nothing listens on tcp:127.0.0.1:705: snmpd is not an AgentX master there",
              "fix": "in /etc/snmp/snmpd.conf.d/edge-agent.conf: master agentx; agentXSocket tcp:127.0.0.1:705,unix:/var/agentx/master; view systemonly included .1.3.6.1.3.9163.1 (one per line), then sudo systemctl restart snmpd",
              "group": "outputs",
              "id": "agentx",
              "status": "fail",
            },
          ],
          "summary": {
            "durationMs": "<n>",
            "exitCode": 1,
            "fail": 2,
            "ok": 0,
            "skip": 0,
            "total": 3,
            "warn": 1,
          },
        }
      `);
    });
  });

  describe("on the scraper, with a real `edge-agent receive` in the namespace", () => {
    let ns: Netns;
    let config: string;
    let fileSd: string;
    let receiver: Daemon;
    beforeAll(async () => {
      ns = createNetns("eadocr");
      cleanups.push(() => ns.remove());
      const sd = mkdtempSync(join(dir, "file-sd-"));
      fileSd = join(sd, "edge-agent.yml");
      config = writeConfig(dir, "scraper.yaml", {
        receiver: { listen: ["udp:127.0.0.1:1162", "udp6:[::1]:1162"], communities: ["edgetest"], fileSd, metrics: "127.0.0.1:9163", state: join(sd, "fleet.json") },
        tailscale: { socket: join(sd, "no-tailscaled.sock") },
      });
      receiver = startUnit(["receive", "--config", config], { unit: "edge-agent-receiver.service", netns: ns.name });
      cleanups.push(() => receiver.stop());
      await waitFor("the receiver's file_sd file", () => existsSync(fileSd), 20_000).catch((error) => {
        throw new Error(`${(error as Error).message}\nreceiver output:\n${receiver.output()}`);
      });
    });

    it("finds the receiver without --check, holding its ports and keeping the file_sd file", async () => {
      const run = await doctor(["--config", config, "--json", ...only("receiver-listen", "receiver-file-sd", "config")], { netns: ns.name });
      const c = byId(run);
      expect(c["receiver-listen"]).toMatchObject({ status: "ok", finding: expect.stringMatching(/^listening on udp:127\.0\.0\.1:1162, udp6:\[::1\]:1162 \(edge-agent receive, pid \d+\)$/) });
      expect(c["receiver-file-sd"]).toMatchObject({ status: "ok", finding: expect.stringMatching(/edge-agent\.yml: 0 targets, written \d+ (s|min) ago by the running receiver \(pid \d+\)$/) });
      expect(run.code).toBe(0);
      // Without --check the receiver checks still run: the config accepts notifications.
      const all = await doctor(["--config", config, "--json"], { netns: ns.name });
      expect(byId(all)["receiver-listen"].status).toBe("ok");
    });

    it("fails a file_sd file older than the running receiver (it could not write it)", async () => {
      const old = (Date.now() - 86_400_000) / 1000;
      utimesSync(fileSd, old, old);
      const run = await doctor(["--config", config, "--json", "--check", "receiver-file-sd"], { netns: ns.name });
      expect(byId(run)["receiver-file-sd"]).toMatchObject({ status: "fail", finding: expect.stringContaining("before the running receiver (pid") });
      expect(run.code).toBe(1);
    });
  });

  it("a firewall dropping tailscaled's port fails firewall-port with the rule to add, and is named as the cause of a relayed path", async () => {
    const ns = nodeNetns({ ipv4: "100.80.1.2/24", ipv6: "2001:db8:100:1::10/64" });
    cleanups.push(() => ns.remove());
    ns.exec("nft", ["-f", "-"], "table inet filter {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    udp dport 41641 drop\n  }\n}\n");
    const tailscaled = await startFakeTailscaled({ ...defaultScenario(), scraperPath: "relay" });
    cleanups.push(() => tailscaled.stop());
    const config = writeConfig(dir, "firewall.yaml", { tailscale: { socket: tailscaled.socket }, ipv6: { allocations: ["2001:db8:100::/56"] }, probes: { timeout: "3s" } });
    const run = await doctor(["--config", config, "--json", ...only("firewall-port", "scraper-path")], { netns: ns.name });
    const c = byId(run);
    expect(c["firewall-port"]).toMatchObject({ status: "fail", fix: "sudo nft add rule inet filter input udp dport 41641 accept" });
    expect(c["firewall-port"].finding).toMatch(/^the firewall \(nftables[^)]*\) drops tailscaled's UDP 41641 in over IPv6 \(inet filter input/);
    expect(c["scraper-path"]).toMatchObject({ status: "warn", fix: "sudo nft add rule inet filter input udp dport 41641 accept" });
    expect(c["scraper-path"].finding).toMatch(/^relayed through DERP fra to scraper\.example-tailnet\.ts\.net, [\d.]+ ms: likely because the firewall drops tailscaled's UDP 41641 in over IPv6$/);
    expect(run.code).toBe(1);
  });

  it("a node-exporter behind basic auth: without credentials the fix is the URL; with them it passes and no output shows the password", async () => {
    const guarded = await startNodeExporter({ basicAuth: true });
    cleanups.push(() => guarded.stop());
    const socket = "/nonexistent/tailscaled.sock";
    const bare = writeConfig(dir, "ne-bare.yaml", { tailscale: { socket }, probes: { nodeExporter: { url: guarded.url } } });
    const without = byId(await doctor(["--config", bare, "--json", ...only("node-exporter")]))["node-exporter"];
    expect(without).toMatchObject({ status: "fail", finding: `${guarded.url} answered HTTP 401: node-exporter asks for basic auth; put user:password@ in probes.nodeExporter.url` });
    expect(without.fix).toMatch(/^check probes\.nodeExporter\.url against node-exporter's flags /);
    const url = guarded.url.replace("http://", `http://${TEST_BASIC_AUTH.user}:${TEST_BASIC_AUTH.password}@`);
    const withAuth = writeConfig(dir, "ne-auth.yaml", { tailscale: { socket }, probes: { nodeExporter: { url } } });
    const run = await doctor(["--config", withAuth, "--json", ...only("node-exporter", "config")]);
    // No Tailscale IP to try it on here: a warning, not a failure.
    expect(byId(run)["node-exporter"]).toMatchObject({ status: "warn", finding: expect.stringContaining(`answers at ${url.replace(TEST_BASIC_AUTH.password, "<secret>")}`) });
    expect(byId(run).config.status).toBe("ok");
    expect(run.stdout + run.stderr).not.toContain(TEST_BASIC_AUTH.password);
  });

  it("a node-exporter serving https with a private CA's certificate: the fix is probes.nodeExporter.tls; with caFile it passes", async () => {
    const certs = makeTestCertificates(["DNS:localhost", "IP:127.0.0.1"]);
    cleanups.push(() => certs.remove());
    const secured = await startNodeExporter({ tls: certs });
    cleanups.push(() => secured.stop());
    const socket = "/nonexistent/tailscaled.sock";
    const bare = writeConfig(dir, "ne-tls-bare.yaml", { tailscale: { socket }, probes: { nodeExporter: { url: secured.url } } });
    const without = byId(await doctor(["--config", bare, "--json", ...only("node-exporter")]))["node-exporter"];
    expect(without).toMatchObject({ status: "fail", finding: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/metrics: unable to verify the first certificate .*; set probes\.nodeExporter\.tls\.caFile /) });
    expect(without.fix).toMatch(/^set probes\.nodeExporter\.tls in edge-agent's config: caFile, /);
    const trusted = writeConfig(dir, "ne-tls-ca.yaml", { tailscale: { socket }, probes: { nodeExporter: { url: secured.url, tls: { caFile: certs.caFile } } } });
    expect(byId(await doctor(["--config", trusted, "--json", ...only("node-exporter")]))["node-exporter"]).toMatchObject({ status: "warn", finding: expect.stringContaining(`answers at ${secured.url}`) });
  });

  it("fails ipv6-prefix for a /64 outside ipv6.allocations", async () => {
    const ns = nodeNetns({ ipv6: "2a01:4f8:1:2::10/64" });
    cleanups.push(() => ns.remove());
    const config = writeConfig(dir, "alloc.yaml", { ipv6: { allocations: ["2001:db8:100::/56"] } });
    const run = await doctor(["--config", config, "--json", "--check", "ipv6-prefix"], { netns: ns.name });
    expect(byId(run)["ipv6-prefix"]).toMatchObject({
      status: "fail",
      finding: "2a01:4f8:1:2::/64 on eth0 lies outside ipv6.allocations (2001:db8:100::/56)",
      fix: expect.stringContaining("allocations: [2001:db8:100::/56, 2a01:4f8:1:2::/64]"),
    });
    expect(run.code).toBe(1);
  });

  it("tailnet-policy: ok by the seed's rules; a missing entry, shields-up and a refused permission each name their fix", async () => {
    const tailscaled = await startFakeTailscaled(defaultScenario());
    cleanups.push(() => tailscaled.stop());
    const config = writeConfig(dir, "policy.yaml", { scraper: "scraper", tailscale: { socket: tailscaled.socket, expectedTags: ["tag:monitor"] }, probes: { timeout: "3s" } });
    const judged = async (change: Partial<Scenario>) => {
      tailscaled.scenario = { ...defaultScenario(), ...change };
      const run = await doctor(["--config", config, "--json", ...only("tailnet-policy")]);
      return { ...byId(run)["tailnet-policy"], code: run.code };
    };
    expect(await judged({})).toMatchObject({ status: "ok", finding: "this node's tailscaled admits the scraper's scrape-node-exporter (tcp/9100) by rule 0, poll-snmpd (udp/161) by rule 1", code: 0 });
    expect(await judged({ packetFilter: seedFilterRules(defaultScenario()).slice(1) })).toMatchObject({
      status: "fail",
      finding: expect.stringMatching(/^this node's tailscaled drops the scraper's scrape-node-exporter \(tcp\/9100\): default deny: no rule of 2 admits tcp\/9100 from 100\.64\.0\.1 to 100\.101\.102\.103/),
      fix: 'add to the tailnet policy\'s "acls": {"action": "accept", "src": ["tag:scraper"], "dst": ["tag:monitor:9100"], "proto": "tcp"} (in "grants": {"src": ["tag:scraper"], "dst": ["tag:monitor"], "ip": ["tcp:9100"]})',
      code: 1,
    });
    expect(await judged({ shieldsUp: true })).toMatchObject({ status: "fail", finding: expect.stringContaining("shields-up"), fix: "sudo tailscale set --shields-up=false", code: 1 });
    expect(await judged({ busWithoutRules: true, access: "read" })).toMatchObject({ status: "warn", fix: expect.stringMatching(new RegExp(`^sudo tailscale set --operator=${userInfo().username} `)), code: 0 });
  });

  it("a logged-out tailscaled fails with the login command; tags are then skipped", async () => {
    const tailscaled = await startFakeTailscaled({ ...defaultScenario(), backendState: "NeedsLogin" });
    cleanups.push(() => tailscaled.stop());
    const config = writeConfig(dir, "login.yaml", { tailscale: { socket: tailscaled.socket } });
    const run = await doctor(["--config", config, "--json", ...only("tailscaled", "tags", "scraper-path")]);
    expect(byId(run).tailscaled).toMatchObject({ status: "fail", finding: "tailscaled is logged out (NeedsLogin)", fix: "sudo tailscale up --advertise-tags=tag:monitor" });
    expect(byId(run).tags.status).toBe("skip");
    expect(byId(run)["scraper-path"].status).toBe("skip");
    expect(run.code).toBe(1);
  });

  it("a tailscaled that never answers fails its checks by the probe timeout; the rest still run", async () => {
    const tailscaled = await startFakeTailscaled({ ...defaultScenario(), hang: ["status"] });
    cleanups.push(() => tailscaled.stop());
    const config = writeConfig(dir, "hang.yaml", { tailscale: { socket: tailscaled.socket }, probes: { timeout: "300ms" } });
    const run = await doctor(["--config", config, "--json", ...only("config", "tailscaled", "tags")]);
    const c = byId(run);
    expect(c.config.status).toBe("ok");
    expect(c.tailscaled).toMatchObject({ status: "fail", finding: expect.stringContaining("did not answer /localapi/v0/status within 300 ms") });
    expect(run.killed).toBe(false);
    expect(run.code).toBe(1);
  });

  it("a textfile directory that does not exist: the fix creates it for the edge-agent user, or installs the package first when that user does not exist yet", async () => {
    const missing = join(dir, "no-such-textfile-dir");
    const config = writeConfig(dir, "textfile-missing.yaml", { textfile: { directory: missing } });
    const run = await doctor(["--config", config, "--json", ...only("textfile-dir")]);
    const userExists = readFileSync("/etc/passwd", "utf8").split("\n").some((l) => l.startsWith("edge-agent:"));
    const create = `sudo install -d -o edge-agent -m 0755 ${missing}`;
    expect(byId(run)["textfile-dir"]).toMatchObject({ status: "fail", finding: `${missing} does not exist`, fix: userExists ? create : `install the edge-agent package first (it creates the edge-agent user), then: ${create}` });
  });

  it("on a fresh machine (no config, no tailscaled, no daemons) runs, names what is missing and exits 1", async () => {
    const ns = createNetns("eafresh");
    cleanups.push(() => ns.remove());
    const run = await doctor([], { netns: ns.name, env: { PATH: "/usr/bin:/bin" } });
    expect(run.killed).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\[warn\] config +no config file at \/etc\/edge-agent\/config\.yaml/);
    expect(run.stdout).toMatch(/\[FAIL\] tailscaled +(Tailscale is not installed|tailscaled is not running)/);
    expect(run.stdout).toMatch(/\[FAIL\] node-exporter +.*127\.0\.0\.1:9100/);
    expect(run.stdout).toMatch(/\[FAIL\] snmpd +.*(127\.0\.0\.1:161|port 161 at 127\.0\.0\.1)/);
    expect(run.stdout).toMatch(/\[FAIL\] agentx +nothing listens on tcp:127\.0\.0\.1:705/);
    expect(run.stdout).toMatch(/fix: .*tailscale up --advertise-tags=tag:monitor/);
    expect(run.stdout).toMatch(/\[skip\] receiver-listen +not the scraper: no receiver\.communities or receiver\.users configured and no `edge-agent receive` running/);
    expect(run.stdout).toMatch(/^18 checks: .* — monitoring is broken here$/m);
    // Everything not ok says what to do, in words that hold before the package is installed.
    const lines = run.stdout.split("\n");
    lines.forEach((line, i) => {
      if (/^ {2}\[(warn|FAIL|skip)\]/.test(line)) expect({ line, next: lines[i + 1] }).toEqual({ line, next: expect.stringMatching(/^ +fix: \S/) });
    });
    // The keys' reference: the man page once the package installed it (its .deb ships no README), else the source's.
    const manPage = ["/usr/share/man/man5/edge-agent.yaml.5.gz", "/usr/share/man/man5/edge-agent.yaml.5"].some((p) => existsSync(p));
    const reference = manPage ? "man 5 edge-agent.yaml" : "man -l packaging/man/edge-agent.yaml.5 in edge-agent's source, or its README's Config reference";
    expect(run.stdout).toContain(`fix: create /etc/edge-agent/config.yaml (keys and defaults: ${reference}), or pass --config FILE`);
    if (!readFileSync("/etc/passwd", "utf8").split("\n").some((l) => l.startsWith("edge-agent:"))) expect(run.stdout).not.toMatch(/fix: sudo (install -d -o|chown) edge-agent/);
    expect(run.stdout).toContain("fix: edge-agent doctor --check receiver-listen runs it anyway");
    // The README's first command, as typed in a checkout after `npm ci`: its fixes name the program as typed there.
    const npx = await doctor([], { netns: ns.name, env: { PATH: `${resolve(process.execPath, "..")}:/usr/bin:/bin` }, via: ["npx", "--no-install", "edge-agent"] });
    expect(npx.stdout).toMatch(/\[FAIL\] tailscaled +(Tailscale is not installed|tailscaled is not running)/);
    expect(npx.stdout).toContain("fix: npx edge-agent doctor --check receiver-listen runs it anyway");
    expect(npx.code).toBe(1);
  });

  describe("exit codes and usage", () => {
    it("exits 2 on a bad config, reporting it as the failed config check", async () => {
      const config = join(dir, "broken.yaml");
      writeFileSync(config, "probes:\n  snmpd:\n    port: eleven\n");
      const run = await doctor(["--config", config, "--json"]);
      const c = byId(run);
      expect(c.config).toMatchObject({ status: "fail", finding: expect.stringContaining("probes.snmpd.port") });
      expect(c.tailscaled).toMatchObject({ status: "skip", finding: "not run: the config is invalid (see the config check)" });
      expect(run.code).toBe(2);
    });
    it("exits 2 on a --config file that does not exist", async () => {
      const run = await doctor(["--config", join(dir, "absent.yaml"), "--check", "config"]);
      expect(run.stdout).toMatch(/\[FAIL\] config +.*absent\.yaml: no such config file/);
      expect(run.stdout).toMatch(/fix: create .*absent\.yaml, or leave out --config/);
      expect(run.code).toBe(2);
    });
    it("exits 2 on an unknown --check, listing the valid ids", async () => {
      const run = await doctor(["--check", "tailscale", "--check", "config"]);
      expect(run.stderr).toContain('unknown check "tailscale"; the checks are: config, ipv6-prefix, ipv4-nat, tailscaled, tags,');
      expect(run.stdout).toBe("");
      expect(run.code).toBe(2);
    });
    it("exits 0 when nothing fails (warnings allowed)", async () => {
      const config = writeConfig(dir, "ok.yaml", { scraper: "scraper" });
      const run = await doctor(["--config", config, "--check", "config"]);
      expect(run.stdout).toMatch(/^  \[ok\] {3}config/m);
      expect(run.code).toBe(0);
    });
  });
});
