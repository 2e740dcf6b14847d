// The .deb and .rpm as a user meets them: `npm run package` builds both from this checkout,
// then scripts/test-packages.sh lints them, checks the rpm's metadata and layout, and installs,
// upgrades, removes and purges the deb in a debootstrap'd Debian 12 root on its nodejs 18, and
// boots Debian's systemd in such a root to run the packaged unit as a host would.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/prereqs";

const checkout = join(__dirname, "../..");
const version: string = JSON.parse(readFileSync(join(checkout, "package.json"), "utf8")).version;

interface Run {
  code: number;
  output: string;
}

function run(command: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: checkout, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}${error && code === -1 ? `\n${error.message}` : ""}` });
    });
  });
}

/** A stage passes when the script exits 0; on failure the script's own FAIL line is the message. */
async function stage(name: string, timeoutMs: number): Promise<string> {
  const result = await run("scripts/test-packages.sh", [name], timeoutMs);
  if (result.code !== 0) throw new Error(`scripts/test-packages.sh ${name} exited ${result.code}:\n${result.output}`);
  return result.output;
}

describeWith(
  { root: true, binaries: ["debootstrap", "chroot", "dpkg-buildpackage", "dh", "rpmbuild", "rpm", "lintian", "rpmlint", "systemd-analyze", "dch", "unshare", "nsenter"] },
  "packages (npm run package, scripts/test-packages.sh)",
  () => {
    let built: Run;
    beforeAll(async () => {
      built = await run("scripts/package.sh", [], 300_000);
    }, 310_000);

    it("builds dist/edge-agent_<version>_all.deb and dist/edge-agent-<version>.noarch.rpm", () => {
      expect(built.code, built.output).toBe(0);
      expect(existsSync(join(checkout, `dist/edge-agent_${version}_all.deb`))).toBe(true);
      expect(existsSync(join(checkout, `dist/edge-agent-${version}.noarch.rpm`))).toBe(true);
      const bundle = readFileSync(join(checkout, "dist/bundle/edge-agent"), "utf8");
      expect(bundle.split("\n")[0]).toBe("#!/usr/bin/node");
    });

    it("passes lintian and rpmlint without errors; both units stay hardened", async () => {
      const output = await stage("lint", 120_000);
      expect(output).toMatch(/^exposure edge-agent\.service \d/m);
      expect(output).toMatch(/^exposure edge-agent-receiver\.service \d/m);
    }, 130_000);

    it("rpm: metadata, scriptlets, layout; upgrade keeps an edited config", async () => {
      const output = await stage("rpm", 300_000);
      expect(output).toContain("ok - rpm --root upgrade keeps the edited config");
    }, 310_000);

    it("deb: installs on Debian 12's nodejs 18, runs, upgrades keeping the config, removes and purges per policy", async () => {
      const output = await stage("deb", 900_000);
      expect(output).toContain("pulled Debian's nodejs v18.");
      expect(output).toContain("ok - purge removes the conffile");
    }, 910_000);

    it("unit: under Debian 12's systemd booted in the root, edge-agent.service runs with its whole sandbox and W^X, serves its objects through Debian's stock snmpd, sees a dropping rule, stops with 0", async () => {
      const output = await stage("unit", 600_000);
      expect(output).toContain("ok - Debian's systemd 252 booted the root");
      expect(output).toContain("ok - nft monitor under the unit: a rule dropping UDP 41641 is a firewallChanged event and a drop verdict");
      expect(output).toMatch(/^ok - snmpwalk through Debian's snmpd \(stock snmpd\.conf \+ \/etc\/snmp\/snmpd\.conf\.d\/edge-agent\.conf\) returns all \d+ EDGE-AGENT-MIB objects$/m);
      expect(output).toContain("ok - edge-agent doctor --check agentx: ok");
      expect(output).toContain("ok - systemctl stop: exit 0 within 5 s");
    }, 610_000);
  },
);
