// Writes the scraper-side files that derive from EDGE-AGENT-MIB's OID tree, or with --check says
// which ones differ from what it would write (exit 1), so they cannot drift from the agent:
//   packaging/snmp_exporter/generator.yml and snmp.yml (the latter through Debian's
//   prometheus-snmp-generator, which must be installed);
//   packaging/snmptt/edge-agent.snmptt.conf: a fragment for snmptt users;
//   packaging/mibs-base/: the IETF base modules EDGE-AGENT-MIB imports, copied from npm's net-snmp,
//   since Debian leaves them out (its snmp-mibs-downloader is non-free and downloads them).
//   npx tsx scripts/scraper-files/main.ts [--check]
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { renderMib } from "../../agent/snmp/mib";
import { generatorYml, shippedSnmpYml } from "./snmp-exporter";
import { snmpttConf } from "./snmptt";

const ROOT = resolve(__dirname, "../..");
/** The IETF base modules EDGE-AGENT-MIB imports, and SNMPv2-MIB for sysUpTime and snmpTrapOID. */
export const BASE_MIBS = ["SNMPv2-SMI", "SNMPv2-TC", "SNMPv2-CONF", "SNMPv2-MIB"];
const NPM_MIBS = join(ROOT, "node_modules/net-snmp/lib/mibs");

/** Runs the generator on generator.yml with only EDGE-AGENT-MIB and its imports to read. */
function runGenerator(generator: string): string {
  const dir = mkdtempSync(join(tmpdir(), "ea-snmp-generator-"));
  try {
    const mibs = join(dir, "mibs");
    mkdirSync(mibs);
    writeFileSync(join(mibs, "EDGE-AGENT-MIB.txt"), renderMib());
    for (const name of BASE_MIBS) copyFileSync(join(NPM_MIBS, `${name}.mib`), join(mibs, `${name}.txt`));
    writeFileSync(join(dir, "generator.yml"), generator);
    const out = join(dir, "snmp.yml");
    const result = spawnSync("prometheus-snmp-generator", ["--fail-on-parse-errors", "generate", "-o", out], { cwd: dir, env: { ...process.env, MIBDIRS: mibs }, encoding: "utf8" });
    if (result.error) throw new Error(`cannot run prometheus-snmp-generator (apt-get install prometheus-snmp-exporter): ${result.error.message}`);
    if (result.status !== 0) throw new Error(`prometheus-snmp-generator exited ${result.status}:\n${result.stderr}`);
    return readFileSync(out, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function expectedFiles(): Map<string, string> {
  const generator = generatorYml();
  return new Map([
    ["packaging/snmp_exporter/generator.yml", generator],
    ["packaging/snmp_exporter/snmp.yml", shippedSnmpYml(runGenerator(generator))],
    ["packaging/snmptt/edge-agent.snmptt.conf", snmpttConf()],
    ...BASE_MIBS.map((name): [string, string] => [`packaging/mibs-base/${name}.txt`, readFileSync(join(NPM_MIBS, `${name}.mib`), "utf8")]),
  ]);
}

function main(): number {
  const check = process.argv.includes("--check");
  const stale: string[] = [];
  for (const [path, text] of expectedFiles()) {
    const file = join(ROOT, path);
    let current: string | null = null;
    try {
      current = readFileSync(file, "utf8");
    } catch {
      current = null;
    }
    if (current === text) continue;
    if (check) {
      stale.push(path);
    } else {
      mkdirSync(resolve(file, ".."), { recursive: true });
      writeFileSync(file, text);
      console.log(`wrote ${path}`);
    }
  }
  if (stale.length) console.error(`out of date (run npx tsx scripts/scraper-files/main.ts): ${stale.join(", ")}`);
  return stale.length ? 1 : 0;
}

if (require.main === module) process.exitCode = main();
