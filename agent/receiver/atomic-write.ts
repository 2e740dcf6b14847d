// Writes a file so readers see the old content or the new, never half of one: a temporary file
// in the same directory, fsynced, then renamed over the target (Prometheus re-reads file_sd
// files on change and must never catch one half-written). A process killed between the two
// leaves its temporary file behind: removeStaleTemps() clears those at the next start.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";

// A dot-name Prometheus's file_sd glob (*.yml) does not match while it is being written.
const tmpName = (path: string, pid: number | string): string => `.${basename(path)}.${pid}.tmp`;

/**
 * Where a write of `path` puts its content first (the directory created when missing), for a
 * writer that fills the file itself and then renames it as writeFileAtomic does.
 */
export function tempPathFor(path: string): { tmp: string; dir: string; created: string | undefined } {
  const dir = dirname(path);
  const created = mkdirSync(dir, { recursive: true });
  return { tmp: join(dir, tmpName(path, process.pid)), dir, created };
}

/** Writes `content` to `path` atomically; returns the first directory it had to create, if any. */
export function writeFileAtomic(path: string, content: string | Buffer, mode = 0o644): string | undefined {
  const { tmp, dir, created } = tempPathFor(path);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, "w", mode);
    if (typeof content === "string") writeSync(fd, content);
    else writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (error) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
  try {
    // Make the rename itself durable.
    const dirFd = openSync(dir, "r");
    fsyncSync(dirFd);
    closeSync(dirFd);
  } catch {
    /* some filesystems refuse fsync on a directory; the rename is still atomic */
  }
  return created;
}

/** Removes the temporary files earlier processes left for `path`; returns the names removed. */
export function removeStaleTemps(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const mine = tmpName(path, process.pid);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+\.tmp$/.test(name.slice(prefix.length)) || name === mine) continue;
    try {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    } catch {
      /* not ours to remove after all (permissions): the next write is unaffected */
    }
  }
  return removed;
}
