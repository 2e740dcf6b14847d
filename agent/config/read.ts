// Reads a config file with bounds: only a regular file (a symlink to /dev/zero or a FIFO would
// never end), at most MAX_CONFIG_BYTES, parsed as one YAML document with the parser's alias limit
// (an alias bomb is a config error, not an exhausted heap). Also maps a key path back to its line.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import { ConfigError, type ConfigProblem } from "../config-error";
import type { Path } from "./convert";

/** Far above any real config (the shipped one, all commented, is about 6 KiB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** The file's text, or null when it does not exist. */
export function readConfigText(path: string): string | null {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    throw new ConfigError(path, "(file)", `cannot read the config file: ${(error as Error).message}`, { code: "unreadable" });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      const kind = stat.isDirectory() ? "a directory" : stat.isFIFO() ? "a FIFO" : stat.isCharacterDevice() || stat.isBlockDevice() ? "a device" : stat.isSocket() ? "a socket" : "not a file";
      throw new ConfigError(path, "(file)", `cannot read the config file: it is ${kind}, not a regular file`, { code: "not-a-file" });
    }
    const tooLarge = () => new ConfigError(path, "(file)", `the config file is larger than ${MAX_CONFIG_BYTES / 1024} KiB; a config is a few KiB`, { code: "too-large" });
    if (stat.size > MAX_CONFIG_BYTES) throw tooLarge();
    // Read at most one byte past the cap: the file may grow after fstat.
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_CONFIG_BYTES) throw tooLarge();
    return buffer.toString("utf8", 0, length);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(path, "(file)", `cannot read the config file: ${(error as Error).message}`, { code: "unreadable" });
  } finally {
    closeSync(fd);
  }
}

export interface ParsedConfig {
  value: unknown;
  /** The line of the key (or list item) at a path; the nearest existing parent's when absent. */
  lineOf: (path: Path) => number | null;
}

/** Every YAML error of the text (line, column, the parser's first line of explanation). */
export function parseConfigText(text: string, path: string): ParsedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    const problems: ConfigProblem[] = doc.errors.map((error) => {
      const pos = lines.linePos(error.pos[0]);
      // The parser's explanation without what follows its first ": ", which may quote the file
      // (a block scalar header's "extra characters", a tag): the line and column point there.
      const message = error.message.split("\n")[0].split(": ")[0].slice(0, 120);
      return { key: `line ${pos.line}, column ${pos.col}`, problem: `not valid YAML: ${message}`, line: pos.line, code: "yaml" };
    });
    throw ConfigError.of(path, problems);
  }
  let value: unknown;
  try {
    // yaml's default maxAliasCount (100) refuses alias bombs with a ReferenceError.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (!(error instanceof ReferenceError || error instanceof RangeError)) throw error;
    throw new ConfigError(path, "(file)", "not valid YAML: too many aliases or too deep (a YAML alias bomb?); a config needs neither", { code: "yaml" });
  }
  return { value: value ?? {}, lineOf: (keys) => lineOf(doc, lines, keys) };
}

function lineOf(doc: Document, lines: LineCounter, path: Path): number | null {
  let node: unknown = doc.contents;
  let line: number | null = null;
  const at = (offset: number | undefined) => (offset === undefined ? line : lines.linePos(offset).line);
  line = at(doc.contents?.range?.[0]);
  for (const part of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
      if (!pair) break;
      line = at((pair.key as { range?: [number, number, number] }).range?.[0]);
      node = pair.value;
    } else if (isSeq(node) && typeof part === "number" && part < node.items.length) {
      node = node.items[part];
      line = at((node as { range?: [number, number, number] }).range?.[0]);
    } else break;
  }
  return line;
}
