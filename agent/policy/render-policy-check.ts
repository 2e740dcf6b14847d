// `policy check` for a person: one line per monitoring flow with its verdict and the entry that
// decided, then for each flow not accepted what nearly admits it and the entry to add.
import type { PolicyFlowVerdict, RoleTags } from "./policy-evaluate";

export function renderPolicyCheck(file: string, tags: RoleTags, verdicts: PolicyFlowVerdict[], warnings: string[]): string {
  const lines = [`${file}: scraper ${tags.scraper}, monitored nodes ${tags.node}`];
  for (const w of warnings) lines.push(`warning: ${w}`);
  const idWidth = Math.max(...verdicts.map((v) => v.id.length));
  for (const v of verdicts) {
    lines.push(`${v.id.padEnd(idWidth)}  ${v.flow.padEnd(8)} ${`${v.src} -> ${v.dst}`.padEnd(2 * Math.max(tags.scraper.length, tags.node.length) + 4)} ${v.verdict.padEnd(7)} ${v.decidedBy}`);
    if (v.reason) lines.push(`    ${v.reason}`);
    for (const n of v.nearMisses) lines.push(`    near miss: ${n}`);
    if (v.fix) lines.push(`    to admit it, add to ${v.fix.startsWith('{"action"') ? '"acls"' : '"grants"'}: ${v.fix}`);
  }
  const missing = verdicts.filter((v) => v.verdict !== "accept").map((v) => v.id);
  lines.push(missing.length ? `not admitted: ${missing.join(", ")}` : "every monitoring flow is admitted");
  return `${lines.join("\n")}\n`;
}
