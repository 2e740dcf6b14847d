// Runs esbuild for scripts/build.sh, applying the patches in packaging/patches/ to the dependency
// sources it bundles. Usage: node scripts/build-bundle.js OUTFILE METAFILE
//
// Why patch at bundle time: the bundle is strict-mode code, and net-snmp 3.29.2's provider
// Proxy traps return nothing, which throws under strict mode (AgentX registered nothing in the
// package while the same code served every object from the checkout). node_modules is left as
// npm installed it; only the bundle carries the fix. Each patch names the exact package version
// it was made for, and every hunk must match that version's text exactly once: a different
// version or a changed file fails the build instead of shipping unpatched code.
"use strict";
const { readFileSync, realpathSync } = require("node:fs");
const { join } = require("node:path");
const esbuild = require("esbuild");

const ROOT = join(__dirname, "..");

/** The dependency patches: package, the exact version the patch was made for, the patch file. */
const PATCHES = [{ pkg: "net-snmp", version: "3.29.2", file: "packaging/patches/net-snmp-3.29.2-proxy-traps-return-true.patch" }];

/** A unified diff's hunks per file: [{ path, hunks: [{ before, after }] }], text without line numbers. */
function parsePatch(text, name) {
  const files = [];
  let current = null;
  let hunk = null;
  for (const line of text.split("\n")) {
    if (line.startsWith("+++ ")) {
      current = { path: line.slice(4).replace(/^b\//, "").split("\t")[0], hunks: [] };
      files.push(current);
      hunk = null;
    } else if (line.startsWith("--- ")) {
      hunk = null;
    } else if (line.startsWith("@@") && current) {
      hunk = { before: [], after: [] };
      current.hunks.push(hunk);
    } else if (hunk && (line.startsWith(" ") || line === "")) {
      hunk.before.push(line.slice(1));
      hunk.after.push(line.slice(1));
    } else if (hunk && line.startsWith("-")) {
      hunk.before.push(line.slice(1));
    } else if (hunk && line.startsWith("+")) {
      hunk.after.push(line.slice(1));
    } else {
      hunk = null;
    }
  }
  for (const file of files)
    for (const h of file.hunks) {
      // A trailing blank line in the diff is its end, not a context line.
      while (h.before.length && h.before.at(-1) === "" && h.after.at(-1) === "") {
        h.before.pop();
        h.after.pop();
      }
    }
  if (!files.some((f) => f.hunks.length)) throw new Error(`${name}: no hunks found`);
  return files;
}

/** Applies `hunks` to `source`; throws unless each hunk's old text occurs exactly once. */
function applyHunks(source, hunks, where) {
  let out = source;
  for (const [i, h] of hunks.entries()) {
    const before = h.before.join("\n");
    const first = out.indexOf(before);
    if (first < 0 || out.indexOf(before, first + 1) >= 0)
      throw new Error(`${where}: hunk ${i + 1} ${first < 0 ? "does not match" : "matches more than once"}; the patch no longer fits this file`);
    out = out.slice(0, first) + h.after.join("\n") + out.slice(first + before.length);
  }
  return out;
}

function patchPlugin() {
  const byFile = new Map();
  for (const p of PATCHES) {
    const installed = JSON.parse(readFileSync(join(ROOT, "node_modules", p.pkg, "package.json"), "utf8")).version;
    if (installed !== p.version)
      throw new Error(`${p.file} was made for ${p.pkg} ${p.version}, but node_modules has ${installed}: check whether ${installed} still needs it, then update the patch and package.json's exact pin together`);
    for (const f of parsePatch(readFileSync(join(ROOT, p.file), "utf8"), p.file))
      // esbuild loads the real path (node_modules may be a symlink, as in test-packages' copy).
      byFile.set(realpathSync(join(ROOT, "node_modules", p.pkg, f.path)), { ...p, hunks: f.hunks });
  }
  const applied = new Set();
  return {
    name: "dependency-patches",
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/]/ }, (args) => {
        const patch = byFile.get(args.path);
        if (!patch) return undefined;
        applied.add(args.path);
        return { contents: applyHunks(readFileSync(args.path, "utf8"), patch.hunks, `${patch.file} on ${args.path}`), loader: "js" };
      });
      build.onEnd(() => {
        for (const file of byFile.keys()) if (!applied.has(file)) throw new Error(`${byFile.get(file).file}: ${file} was never loaded by the bundle, so the patch was not applied`);
      });
    },
  };
}

async function main() {
  const [outfile, metafile] = process.argv.slice(2);
  if (!outfile || !metafile) throw new Error("usage: node scripts/build-bundle.js OUTFILE METAFILE");
  // Minified because V8 keeps a script's whole source in memory for as long as the process runs
  // (the daemon's idle RSS has a 1.25x budget); keepNames keeps function and class names in stack
  // traces. net-snmp's crypto is loaded on first use (scripts/build-shims/crypto.js).
  // agent/main.ts is the only entry: cli.ts `require`s each command module with a literal path,
  // which esbuild follows, so new commands are bundled without being listed here.
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ["agent/main.ts"],
    bundle: true,
    platform: "node",
    target: "node18",
    format: "cjs",
    banner: { js: "#!/usr/bin/node" },
    legalComments: "none",
    // EDGE_AGENT_BUNDLE_READABLE=1: not minified, so a CPU profile names the functions
    // (scripts/bench/receiver.ts --profile); never for the packages.
    minify: process.env.EDGE_AGENT_BUNDLE_READABLE !== "1",
    keepNames: true,
    alias: { crypto: "./scripts/build-shims/crypto.js" },
    logLevel: "warning",
    metafile: true,
    outfile,
    plugins: [patchPlugin()],
  });
  require("node:fs").writeFileSync(metafile, JSON.stringify(result.metafile));
}

module.exports = { parsePatch, applyHunks, PATCHES };

if (require.main === module)
  main().catch((error) => {
    console.error(`build: ${error.message}`);
    process.exit(1);
  });
