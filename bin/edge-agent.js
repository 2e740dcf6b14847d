#!/usr/bin/env node
// Launcher for a checkout (`npx edge-agent`). It runs the bundle `npm ci` built (package.json's
// `prepare`: scripts/build.sh -> dist/bundle/edge-agent) when that is newer than every source it
// was built from, because the bundle starts in a fraction of tsx's time; after an edit to the
// sources it runs them through tsx instead, so a checkout never runs stale code. The packages
// ship the bundle as /usr/bin/edge-agent and never load this file.
"use strict";
const { readdirSync, statSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
const bundle = join(root, "dist/bundle/edge-agent");

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** The newest modification time of the files under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // Concatenated, not path.join()ed: join's normalising was most of this walk's CPU time.
    const path = `${dir}/${entry.name}`;
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : mtime(path));
  }
  return latest;
}

const built = mtime(bundle);
const inputs = [newest(join(root, "agent")), newest(join(root, "packaging/patches")), mtime(join(root, "package-lock.json")), mtime(join(root, "scripts/build-bundle.js"))];
if (built > 0 && inputs.every((t) => t <= built)) {
  require("./bundle-code-cache").runBundle(bundle, process.argv.slice(2));
} else {
  require("tsx/cjs");
  require("../agent/main.ts");
}
