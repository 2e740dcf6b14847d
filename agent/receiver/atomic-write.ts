// Writes a file so readers see the old content or the new, never half of one: a temporary file
// in the same directory, fsynced, then renamed over the target (Prometheus re-reads file_sd
// files on change and must never catch one half-written).
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";

export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  // A dot-name Prometheus's file_sd glob (*.yml) does not match while it is being written.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, "w", mode);
    writeSync(fd, content);
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
}
