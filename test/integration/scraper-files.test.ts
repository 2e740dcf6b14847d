// The scraper-side files derived from EDGE-AGENT-MIB's OID tree (snmp_exporter's generator.yml
// and snmp.yml through Debian's prometheus-snmp-generator, the snmptt fragment, the base MIBs
// from npm's net-snmp) are what scripts/scraper-files/main.ts writes today, so none can drift
// from the agent.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import { expectedFiles } from "../../scripts/scraper-files/main";
import { describeWith } from "../helpers/prereqs";

const ROOT = resolve(__dirname, "../..");

describeWith({ binaries: ["prometheus-snmp-generator"] }, "scraper files generated from the OID tree", () => {
  it("are up to date in packaging/", () => {
    const files = expectedFiles();
    expect([...files.keys()]).toContain("packaging/snmp_exporter/snmp.yml");
    for (const [path, text] of files) expect(readFileSync(join(ROOT, path), "utf8"), `${path} is out of date: npx tsx scripts/scraper-files/main.ts`).toBe(text);
  });
});
