// Runs the bundle in this process the way require() would, through a V8 code cache kept beside
// it: compiling the 700 KiB bundle, and then each function it calls, costs a checkout's
// `npx edge-agent doctor` about as much CPU as the checks themselves; a cache lets V8 load that
// work instead of redoing it. The first run of a command after a build writes that command's
// cache as it exits (BUNDLE.COMMAND.v8-cache, holding every function the run compiled: one per
// command, since each calls different code); later runs of it read the cache. Only
// bin/edge-agent.js uses this: the packages run /usr/bin/edge-agent directly. Node 18's vm API.
"use strict";
const { closeSync, fstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } = require("node:fs");
const Module = require("node:module");
const { dirname } = require("node:path");
const vm = require("node:vm");

/**
 * What the cache was made from. V8 checks its own version and flags, but of the source only the
 * length, so a rebuilt bundle of the same length would run the old bundle's code: the key names
 * this exact file (inode, size, change time, which a rebuild always moves) and this Node.
 */
function cacheKey(stat) {
  return `edge-agent v8 code cache 1; node ${process.version} ${process.arch}; bundle ${stat.ino} ${stat.size} ${stat.mtimeMs} ${stat.ctimeMs}\n`;
}

/** The cached data stored under `key`, or undefined (absent, unreadable or made from something else). */
function readCache(path, key) {
  let file;
  try {
    file = readFileSync(path);
  } catch {
    return undefined;
  }
  const header = Buffer.from(key);
  return file.length > header.length && file.subarray(0, header.length).equals(header) ? file.subarray(header.length) : undefined;
}

/** Replaces the cache in one rename, so a concurrent run reads the old file or the new, never half. */
function writeCache(path, key, script) {
  const temp = `${path}.${process.pid}.tmp`;
  let fd;
  try {
    fd = openSync(temp, "w", 0o644);
  } catch {
    return; // a checkout this user cannot write to: run without a cache
  }
  try {
    const data = script.createCachedData();
    writeSync(fd, key);
    writeSync(fd, data);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      /* already gone */
    }
  }
}

/** Pure: the cache file for a command line's first argument (a command word, or anything else). */
function cachePathFor(bundle, firstArg) {
  return `${bundle}.${typeof firstArg === "string" && /^[a-z]{1,20}$/.test(firstArg) ? firstArg : "other"}.v8-cache`;
}

/** Runs `bundle` as its own CommonJS module, through the code cache of the command `argv` names. */
function runBundle(bundle, argv) {
  const cachePath = cachePathFor(bundle, argv[0]);
  // One descriptor for the key and the text, so a rebuild between the two cannot pair them wrongly.
  const fd = openSync(bundle, "r");
  let source;
  let key;
  try {
    key = cacheKey(fstatSync(fd));
    source = readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
  // The wrapper takes the shebang's place on line 1, so stack traces keep the bundle's line numbers.
  const body = source.startsWith("#!") ? source.slice(source.indexOf("\n")) : source;
  const cachedData = readCache(cachePath, key);
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${body}\n})`, { filename: bundle, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) process.once("exit", () => writeCache(cachePath, key, script));
  const module = new Module(bundle, require.main);
  module.filename = bundle;
  script.runInThisContext().call(module.exports, module.exports, Module.createRequire(bundle), module, bundle, dirname(bundle));
  module.loaded = true;
}

module.exports = { runBundle, cachePathFor };
