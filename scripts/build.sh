#!/usr/bin/env bash
# Bundles the agent into one CommonJS file that runs on Node 18 (Debian 12's nodejs), the
# program the packages install as /usr/bin/edge-agent. Output: dist/bundle/edge-agent, or
# $BUNDLE_OUT/edge-agent when set (tests build their own copy beside a running package build).
#
# Fails when the bundle would ship something the packages do not account for: a command module
# under agent/commands/ that the bundle does not contain, or a third-party package whose
# licence packaging/deb/copyright does not name.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${BUNDLE_OUT:-dist/bundle}
mkdir -p "$out"
rm -f "$out/edge-agent" "$out/meta.json" "$out"/edge-agent.*.v8-cache

# esbuild with the dependency patches of packaging/patches/ (scripts/build-bundle.js says why).
node scripts/build-bundle.js "$out/edge-agent" "$out/meta.json"
chmod 0755 "$out/edge-agent"

node - "$out/meta.json" <<'JS'
const { readFileSync, readdirSync } = require("node:fs");
const meta = JSON.parse(readFileSync(process.argv[2], "utf8"));
const inputs = Object.keys(meta.inputs);
const problems = [];

for (const file of readdirSync("agent/commands").filter((f) => f.endsWith(".ts")))
  if (!inputs.includes(`agent/commands/${file}`))
    problems.push(`agent/commands/${file} is not in the bundle: cli.ts must require("./commands/${file.replace(/\.ts$/, "")}") with a literal path`);

const copyright = readFileSync("packaging/deb/copyright", "utf8");
const packages = new Set();
for (const input of inputs) {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (match) packages.add(match[1]);
}
for (const name of [...packages].sort())
  if (!new RegExp(`^(Files:)? +node_modules/${name.replace(/[.]/g, "\\.")}/\\*$`, "m").test(copyright))
    problems.push(`the bundle contains ${name}, but packaging/deb/copyright names no node_modules/${name}/* in a Files field: add its copyright holder and licence`);

if (problems.length) {
  for (const p of problems) console.error(`build: ${p}`);
  process.exit(1);
}
const size = readFileSync(process.argv[2].replace(/meta\.json$/, "edge-agent")).length;
console.log(`build: ${process.argv[2].replace(/meta\.json$/, "edge-agent")} ${(size / 1024).toFixed(0)} KiB, ${packages.size} bundled packages: ${[...packages].sort().join(", ")}`);
JS
