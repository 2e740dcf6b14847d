// Doctor's checks that read the host directly, run in-process against real things: the
// receiver's UDP ports (nothing bound; a real snmptrapd holding them), a file_sd file that is
// absent or not a target list, the scraper's packet filter against its tagged peers (the
// LocalAPI test server), and a textfile directory that does not exist or sits on a read-only mount.
// Sources in process: these judges need host states (a read-only mount, ports held by another
// program) set up per case; doctor.test.ts runs the packaged program end to end.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromObject } from "../../agent/config";
import type { ConfigLoad } from "../../agent/doctor/context";
import { runDoctor } from "../../agent/doctor/doctor";
import { unitInstalled } from "../../agent/doctor/facts/units";
import { selectChecks } from "../../agent/doctor/registry";
import { startNodeExporter, type NodeExporter } from "../helpers/node-exporter";
import { defaultScenario, startFakeTailscaled, type ExtraPeer, type Scenario } from "../helpers/tailscaled";
import { freeUdpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { startDaemon, type Daemon } from "../helpers/process";
import { netSnmpEnv } from "../helpers/snmpd";
import { boundUdpSockets } from "../../agent/probes/udp-listeners";

// Until the package has made the edge-agent user and installed the receiver's unit, the fixes that
// need them say to install it first (test/unit/doctor-checks.test.ts pins both forms).
const userExists = readFileSync("/etc/passwd", "utf8").split("\n").some((l) => l.startsWith("edge-agent:"));
const receiverUnit = unitInstalled("edge-agent-receiver.service");
const first = (present: boolean, what: string, command: string) => (present ? command : `install the edge-agent package first (it ${what}), then: ${command}`);

function load(raw: Record<string, unknown>): ConfigLoad {
  return { path: "/test/config.yaml", config: configFromObject(raw, "/test/config.yaml"), error: null, mode: 0o100640 };
}

async function run(raw: Record<string, unknown>, ids: string[], requested = ids) {
  const report = await runDoctor(load(raw), selectChecks(ids).checks, new Set(requested));
  return Object.fromEntries(report.checks.map((c) => [c.id, c]));
}

describeWith({ root: true, binaries: ["snmptrapd", "prometheus-node-exporter", "mount"] }, "doctor on the scraper and the host's directories (in-process, real components)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ea-doctor-scraper-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe("receiver-listen", () => {
    it("fails when nothing holds receiver.listen", async () => {
      const port = await freeUdpPort();
      const c = await run({ receiver: { listen: [`udp:127.0.0.1:${port}`] } }, ["receiver-listen"]);
      expect(c["receiver-listen"]).toMatchObject({ status: "fail", finding: `nothing listens on udp:127.0.0.1:${port}: the receiver is not running`, fix: first(receiverUnit, "ships edge-agent-receiver.service", "sudo systemctl enable --now edge-agent-receiver") });
    });

    it("fails naming snmptrapd when it holds the port", async () => {
      const port = await freeUdpPort();
      const conf = join(dir, "snmptrapd.conf");
      writeFileSync(conf, "disableAuthorization yes\n");
      const trapd: Daemon = startDaemon("snmptrapd", ["-f", "-Lo", "-C", "-c", conf, `udp:127.0.0.1:${port}`], { env: netSnmpEnv() });
      try {
        await waitFor(`snmptrapd on ${port}`, async () => (await boundUdpSockets()).some((s) => s.port === port));
        const c = await run({ receiver: { listen: [`udp:127.0.0.1:${port}`] } }, ["receiver-listen"]);
        expect(c["receiver-listen"].status).toBe("fail");
        expect(c["receiver-listen"].finding).toMatch(new RegExp(`^receiver.listen is taken by another program: udp:127.0.0.1:${port} by snmptrapd \\(pid ${trapd.child.pid}\\)$`));
        expect(c["receiver-listen"].fix).toContain("systemctl disable --now snmptrapd");
      } finally {
        await trapd.stop();
      }
    });
  });

  describe("receiver-config", () => {
    it("fails with no credentials, warns when new senders cannot be verified, and is ok with tailscaled to ask", async () => {
      const none = join(dir, "no-tailscaled.sock");
      expect((await run({ receiver: {}, tailscale: { socket: none } }, ["receiver-config"]))["receiver-config"]).toMatchObject({ status: "fail", finding: expect.stringContaining("every notification will be refused") });
      expect((await run({ receiver: { communities: ["c0mmunity"] }, tailscale: { socket: none } }, ["receiver-config"], []))["receiver-config"]).toMatchObject({ status: "warn", finding: expect.stringContaining("refused as unverified") });
      const tailscaled = await startFakeTailscaled();
      try {
        expect((await run({ receiver: { communities: ["c0mmunity"] }, tailscale: { socket: tailscaled.socket } }, ["receiver-config"], []))["receiver-config"]).toMatchObject({ status: "ok", finding: `credentials configured; senders are verified with tailscaled whois (${tailscaled.socket})` });
      } finally {
        await tailscaled.stop();
      }
    });
  });

  describe("receiver-file-sd", () => {
    // Fresh and stale need to know whether a receiver runs here: the CLI test runs a real one.
    it("fails when the file is absent or not a target list", async () => {
      const file = join(dir, "edge-agent.yml");
      const config = { receiver: { fileSd: file, communities: ["c0mmunity"] } };
      expect((await run(config, ["receiver-file-sd"], []))["receiver-file-sd"]).toMatchObject({ status: "fail", finding: expect.stringContaining(`${file} does not exist`) });
      writeFileSync(file, "targets: nope\n");
      expect((await run(config, ["receiver-file-sd"], []))["receiver-file-sd"]).toMatchObject({ status: "fail", finding: expect.stringContaining("is not a file_sd target list") });
    });
  });

  describe("receiver-notify-policy", () => {
    const SCRAPER_IPS = ["100.64.0.1", "fd7a:115c:a1e0::1"];
    const peers: ExtraPeer[] = ["node1", "node2", "node3"].map((hostName, i) => ({ hostName, ips: [`100.101.0.${i + 1}`, `fd7a:115c:a1e0::${i + 101}`], tags: ["tag:monitor"] }));
    const notifyRule = (admitted: ExtraPeer[]) => ({ SrcIPs: admitted.flatMap((p) => p.ips), DstPorts: SCRAPER_IPS.map((ip) => ({ IP: ip, Ports: { First: 162, Last: 162 } })), IPProto: [17] });
    const scraper = (over: Partial<Scenario>): Scenario => ({ ...defaultScenario(), selfHostName: "scraper", selfTags: ["tag:prom"], selfIps: SCRAPER_IPS, peers, access: "read", ...over });
    async function check(over: Partial<Scenario>) {
      const tailscaled = await startFakeTailscaled(scraper(over));
      try {
        return (await run({ receiver: { communities: ["c0mmunity"] }, tailscale: { socket: tailscaled.socket } }, ["receiver-notify-policy"]))["receiver-notify-policy"];
      } finally {
        await tailscaled.stop();
      }
    }

    it("fails naming the tagged peer whose udp/162 the scraper's filter drops, with the policy entry to add", async () => {
      const c = await check({ packetFilter: [notifyRule([peers[0], peers[2]])] });
      expect(c.status).toBe("fail");
      expect(c.finding).toBe("the scraper's packet filter drops udp/162 (notify-scraper) from 1 of 3 peers carrying tag:monitor, so their notifications never arrive: node2 (default deny: no rule of 1 admits udp/162 from 100.101.0.2 to 100.64.0.1)");
      // The scraper's own tag (tag:prom) is the destination, in the policy's acls syntax.
      expect(c.fix).toContain('add to the tailnet policy\'s acls: {"action": "accept", "src": ["tag:monitor"], "dst": ["tag:prom:162"], "proto": "udp"}');
    });

    it("is ok when the filter admits every tagged peer, and tells shields-up and a missing netmap apart", async () => {
      expect(await check({ packetFilter: [notifyRule(peers)] })).toMatchObject({ status: "ok", finding: "the scraper's packet filter admits udp/162 from all 3 peers carrying tag:monitor (rule 0)" });
      expect(await check({ packetFilter: [notifyRule(peers)], shieldsUp: true })).toMatchObject({ status: "fail", fix: expect.stringContaining("sudo tailscale set --shields-up=false") });
      expect(await check({ packetFilter: null })).toMatchObject({ status: "warn", finding: expect.stringContaining("has no network map") });
    });

    it("warns when no peer carries receiver.nodeTag, and is skipped without tailscaled", async () => {
      expect(await check({ peers: [], packetFilter: [] })).toMatchObject({ status: "warn", finding: expect.stringContaining("no peer of this scraper carries tag:monitor") });
      const c = (await run({ receiver: { communities: ["c0mmunity"] }, tailscale: { socket: join(dir, "none.sock") } }, ["receiver-notify-policy"]))["receiver-notify-policy"];
      expect(c).toMatchObject({ status: "skip", finding: expect.stringContaining("no tailscaled socket") });
    });
  });

  describe("textfile-dir", () => {
    let ne: NodeExporter;
    let roDir: string;
    let mounted = false;
    beforeAll(async () => {
      roDir = join(dir, "readonly");
      mkdirSync(roDir);
      execFileSync("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", roDir]);
      mounted = true;
      ne = await startNodeExporter({ textfileDir: roDir });
    });
    afterAll(async () => {
      await ne?.stop();
      if (mounted) execFileSync("umount", [roDir]);
    });

    it("fails when the directory is on a read-only mount, though node-exporter reads it", async () => {
      const c = await run({ probes: { nodeExporter: { url: ne.url } }, textfile: { directory: roDir } }, ["textfile-dir"]);
      expect(c["textfile-dir"]).toMatchObject({ status: "fail", finding: expect.stringMatching(/is not writable: .*EROFS/) });
    });

    it("fails when the directory does not exist", async () => {
      const missing = join(dir, "absent");
      const c = await run({ probes: { nodeExporter: { url: ne.url } }, textfile: { directory: missing } }, ["textfile-dir"]);
      expect(c["textfile-dir"]).toMatchObject({ status: "fail", finding: `${missing} does not exist`, fix: first(userExists, "creates the edge-agent user", `sudo install -d -o edge-agent -m 0755 ${missing}`) });
    });

    it("is ok for node-exporter's own directory, found from its command line, and leaves nothing behind", async () => {
      const writable = mkdtempSync(join(dir, "tf-"));
      const own = await startNodeExporter({ textfileDir: writable });
      try {
        const c = await run({ probes: { nodeExporter: { url: own.url } }, textfile: { directory: writable } }, ["textfile-dir"]);
        expect(c["textfile-dir"]).toMatchObject({ status: "ok", finding: `${writable} is writable and is node-exporter's textfile directory (per prometheus-node-exporter pid ${own.child.pid}'s arguments)` });
        expect(execFileSync("ls", ["-A", writable], { encoding: "utf8" })).toBe("");
      } finally {
        await own.stop();
      }
    });
  });
});
