// The MIB passes libsmi's strict check and loads in Net-SNMP, at the default root and re-rooted;
// `edge-agent mib` prints it and refuses a bad --base-oid with exit 2.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { runAgent, runAgentBatch } from "../helpers/cli";
import { describeWith } from "../helpers/prereqs";
import { BASE_MIB_DIR, netSnmpEnv } from "../helpers/snmpd";

const run = promisify(execFile);
const ROOT = resolve(__dirname, "../..");
const SHIPPED_DIR = join(ROOT, "packaging/mibs");

async function smilint(file: string): Promise<string> {
  // smilint exits non-zero on any message; the output is what the test judges.
  try {
    const { stdout, stderr } = await run("smilint", ["-l", "3", "-s", file], { env: { ...process.env, SMIPATH: BASE_MIB_DIR } });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout: string; stderr: string };
    return e.stdout + e.stderr;
  }
}

async function translate(mibDir: string, names: string[]): Promise<string[]> {
  const { stdout } = await run("snmptranslate", ["-M", `+${mibDir}:${BASE_MIB_DIR}`, "-m", "EDGE-AGENT-MIB", "-On", ...names], { env: netSnmpEnv() });
  return stdout.split("\n").filter(Boolean);
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describeWith({ binaries: ["smilint", "snmptranslate"] }, "EDGE-AGENT-MIB with libsmi and Net-SNMP", () => {
  it("the shipped MIB passes smilint -l 3 without a message", async () => {
    expect(await smilint(join(SHIPPED_DIR, "EDGE-AGENT-MIB.txt"))).toBe("");
  });

  it("the shipped MIB loads in snmptranslate, objects under 1.3.6.1.3.9163.1 and notifications under .0", async () => {
    const oids = await translate(SHIPPED_DIR, ["EDGE-AGENT-MIB::edgeAgentHostName", "EDGE-AGENT-MIB::edgeAgentNotificationSequence", "EDGE-AGENT-MIB::edgeAgentServiceDown", "EDGE-AGENT-MIB::edgeAgentTest"]);
    expect(oids).toEqual([".1.3.6.1.3.9163.1.1", ".1.3.6.1.3.9163.1.20", ".1.3.6.1.3.9163.0.6", ".1.3.6.1.3.9163.0.9"]);
    const { stdout } = await run("snmptranslate", ["-M", `+${SHIPPED_DIR}:${BASE_MIB_DIR}`, "-m", "EDGE-AGENT-MIB", "-Td", "EDGE-AGENT-MIB::edgeAgentScraperPath"], { env: netSnmpEnv() });
    expect(stdout).toContain("peerRelay(3)");
  });

  it("loads with the documented command line (docs/mib.md)", async () => {
    const { stdout } = await run("snmptranslate", ["-M", "+packaging/mibs:node_modules/net-snmp/lib/mibs", "-m", "+EDGE-AGENT-MIB", "-On", "EDGE-AGENT-MIB::edgeAgentHostName"], { cwd: ROOT });
    expect(stdout).toBe(".1.3.6.1.3.9163.1.1\n");
  });

  it("`edge-agent mib` prints the shipped file", async () => {
    const { code, stdout } = await runAgent(["mib"]);
    expect(code).toBe(0);
    expect(stdout).toBe(require("node:fs").readFileSync(join(SHIPPED_DIR, "EDGE-AGENT-MIB.txt"), "utf8"));
  });

  for (const base of ["1.3.6.1.4.1.99999.1", "1.3.6.1.4.1.99999", "1.2.840.99999.7"]) {
    it(`re-rooted at ${base}, passes smilint and loads in Net-SNMP at that root`, async () => {
      const { code, stdout } = await runAgent(["mib", "--base-oid", base]);
      expect(code).toBe(0);
      const dir = mkdtempSync(join(tmpdir(), "ea-mib-"));
      dirs.push(dir);
      writeFileSync(join(dir, "EDGE-AGENT-MIB.txt"), stdout);
      expect(await smilint(join(dir, "EDGE-AGENT-MIB.txt"))).toBe("");
      expect(await translate(dir, ["EDGE-AGENT-MIB::edgeAgentHostName", "EDGE-AGENT-MIB::edgeAgentTest"])).toEqual([`.${base}.1.1`, `.${base}.0.9`]);
    });
  }

  it("a bad --base-oid exits 2 and says why", async () => {
    const cases = [["not-an-oid", /not an OID/], ["1.3.6.1.4.1", /standard node enterprises/], ["2.25.7", /not under iso/]] as const;
    const runs = await runAgentBatch(cases.map(([base]) => ["mib", "--base-oid", base]));
    cases.forEach(([base, why], i) => {
      expect({ base, code: runs[i].code, stdout: runs[i].stdout }).toEqual({ base, code: 2, stdout: "" });
      expect(runs[i].stderr).toMatch(why);
    });
  });
});
