// A stock Debian scraper reads edge-agent's notifications by name with only what the package
// installs: Debian's snmptrapd, told to include the shipped snmptrapd/edge-agent.conf, logs every
// object by name (and cannot without the shipped base MIBs); Debian's snmptt with the shipped
// fragment logs one line per notification naming the event, the node and what changed.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freeUdpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import { startDaemon, type Daemon } from "../helpers/process";
import { edgeValues, snmptrap, snmptrapVarbindArgs, tree } from "./receiver-support";

const PACKAGING = resolve(__dirname, "../../packaging");
const COMMUNITY = "edge-names";

/**
 * The package's files laid out under `root` as the .deb installs them (paths in the shipped
 * snmptrapd fragment moved under `root` too). EDGE-AGENT-MIB goes to `root`/home/.snmp/mibs:
 * like /usr/share/snmp/mibs, where the package puts it, that is in Net-SNMP's built-in search
 * path, and the test must not write to /usr/share.
 */
function installPackagedFiles(root: string): void {
  const share = join(root, "usr/share/edge-agent");
  for (const dir of ["mibs", "snmptrapd", "snmptt"]) mkdirSync(join(share, dir), { recursive: true });
  for (const file of readdirSync(join(PACKAGING, "mibs-base"))) copyFileSync(join(PACKAGING, "mibs-base", file), join(share, "mibs", file));
  writeFileSync(join(share, "snmptrapd/edge-agent.conf"), readFileSync(join(PACKAGING, "snmptrapd/edge-agent.conf"), "utf8").replaceAll("/usr/share/", `${root}/usr/share/`));
  copyFileSync(join(PACKAGING, "snmptt/edge-agent.snmptt.conf"), join(share, "snmptt/edge-agent.snmptt.conf"));
  mkdirSync(join(root, "home/.snmp/mibs"), { recursive: true });
  copyFileSync(join(PACKAGING, "mibs/EDGE-AGENT-MIB.txt"), join(root, "home/.snmp/mibs/EDGE-AGENT-MIB.txt"));
}

/** Debian's snmptrapd as its unit runs it (default config files read, so /etc/snmp/snmp.conf's `mibs :` too) plus `conf`. */
async function startSnmptrapd(root: string, name: string, conf: string[]): Promise<{ daemon: Daemon; port: number }> {
  const port = await freeUdpPort();
  const file = join(root, `${name}.conf`);
  writeFileSync(file, conf.join("\n") + "\n");
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: join(root, "home") };
  delete env.MIBS;
  delete env.MIBDIRS;
  const daemon = startDaemon("snmptrapd", ["-f", "-Lo", "-c", file, "-p", join(root, `${name}.pid`), `udp:127.0.0.1:${port}`], { env });
  await waitFor("snmptrapd ready", () => daemon.output().includes("NET-SNMP version"), 10_000, 50).catch((e) => {
    throw new Error(`${(e as Error).message}\n${daemon.output()}`);
  });
  return { daemon, port };
}

const pathChanged = (port: number) =>
  snmptrap([
    "-v2c", "-c", COMMUNITY, `127.0.0.1:${port}`, "", tree.notificationOid("pathChanged"),
    ...snmptrapVarbindArgs(edgeValues("web1", 3, { edgeAgentScraperPath: "relay", edgeAgentScraperEndpoint: "fra", edgeAgentEventSummary: "path to the scraper changed to relay (fra)" })),
  ]);

describeWith({ binaries: ["snmptrapd", "snmptrap", "snmptt"] }, "traps by name on a stock Debian scraper", () => {
  let root: string;
  const daemons: Daemon[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "ea-trap-names-"));
    installPackagedFiles(root);
  });
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("snmptrapd including the shipped fragment logs the notification and every object by name", async () => {
    const { daemon, port } = await startSnmptrapd(root, "named", [`authCommunity log ${COMMUNITY}`, `includeFile ${root}/usr/share/edge-agent/snmptrapd/edge-agent.conf`]);
    daemons.push(daemon);
    expect((await pathChanged(port)).code).toBe(0);
    const out = await waitFor("the trap logged", () => (daemon.output().includes("edgeAgentEventService") ? daemon.output() : null), 10_000);
    expect(out).not.toContain("Cannot find module");
    expect(out).toContain("SNMPv2-MIB::snmpTrapOID.0 = OID: EDGE-AGENT-MIB::edgeAgentPathChanged");
    expect(out).toContain("SNMPv2-MIB::sysUpTime.0 = Timeticks:");
    expect(out).toContain("EDGE-AGENT-MIB::edgeAgentScraperPath.0 = INTEGER: relay(2)");
    expect(out).toContain("EDGE-AGENT-MIB::edgeAgentNodeExporterUp.0 = INTEGER: true(1)");
    expect(out).toContain("EDGE-AGENT-MIB::edgeAgentTailnetName.0 = STRING: web1.example-tailnet.ts.net");
  });

  it("cannot without the base MIBs, as Debian installs it (the control)", async () => {
    const { daemon, port } = await startSnmptrapd(root, "bare", [`authCommunity log ${COMMUNITY}`, "[snmp] mibs +EDGE-AGENT-MIB"]);
    daemons.push(daemon);
    expect((await pathChanged(port)).code).toBe(0);
    const out = await waitFor("the trap logged", () => (daemon.output().includes("9163.1.23.0") ? daemon.output() : null), 10_000);
    expect(out).toContain("Cannot find module (SNMPv2-SMI)");
    expect(out).not.toContain("EDGE-AGENT-MIB::edgeAgentPathChanged");
  });

  it("snmptt with the shipped fragment logs the event, the node and what changed", async () => {
    // Debian's own snmptt.ini, pointed at the fragment and at a log file in the test's directory.
    const ini = readFileSync("/etc/snmp/snmptt.ini", "utf8")
      .replace(/^snmptt_conf_files = <<END\n[\s\S]*?\nEND$/m, `snmptt_conf_files = <<END\n${root}/usr/share/edge-agent/snmptt/edge-agent.snmptt.conf\nEND`)
      .replace(/^log_file = .*$/m, `log_file = ${root}/snmptt.log`)
      .replace(/^syslog_enable = .*$/m, "syslog_enable = 0")
      .replace(/^syslog_system_enable = .*$/m, "syslog_system_enable = 0");
    writeFileSync(join(root, "snmptt.ini"), ini);
    const { daemon, port } = await startSnmptrapd(root, "snmptt", [
      `authCommunity execute ${COMMUNITY}`,
      "[snmp] printNumericOids yes",
      `traphandle default /usr/sbin/snmptt --ini=${root}/snmptt.ini`,
    ]);
    daemons.push(daemon);
    expect((await pathChanged(port)).code).toBe(0);
    const log = await waitFor("snmptt's log line", () => {
      try {
        return readFileSync(join(root, "snmptt.log"), "utf8") || null;
      } catch {
        return null;
      }
    }, 15_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}\n${daemon.output()}`);
    });
    expect(log).toContain(`.${tree.notificationOid("pathChanged")} Warning "edge-agent"`);
    expect(log).toContain("edgeAgentPathChanged from web1.example-tailnet.ts.net");
    expect(log).toContain("path to the scraper changed to relay (fra)");
  });
});
