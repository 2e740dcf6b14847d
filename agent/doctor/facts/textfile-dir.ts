// Can the textfile directory be written: by this process (a real write, removed at once: the
// kernel's answer, read-only mounts and full disks included) and, when doctor runs as root, by
// the `edge-agent` user the daemon runs as (from the directory's mode bits).
import { realpath, stat, unlink, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { errorText } from "../../probes/deadline";

export const DAEMON_USER = "edge-agent";

export interface DirWrite {
  directory: string;
  /** The directory with symlinks resolved, for comparing with node-exporter's. */
  realPath: string;
  exists: boolean;
  writable: boolean;
  error?: string;
  /** The system's code for the error (ENOENT, EACCES, ENOTDIR...), which the verdict is made on. */
  code?: string;
  /** Whether the daemon's user may write it; null when that user does not exist or we are not root. */
  daemonUserWritable: boolean | null;
  /** Whether the edge-agent user exists yet (the package creates it); null when /etc/passwd cannot be read. */
  daemonUserExists: boolean | null;
}

/** Pure: POSIX permission bits for one user. */
export function modeAllowsWrite(mode: number, owner: number, group: number, uid: number, gids: number[]): boolean {
  if (uid === 0) return true;
  if (owner === uid) return (mode & 0o200) !== 0;
  if (gids.includes(group)) return (mode & 0o020) !== 0;
  return (mode & 0o002) !== 0;
}

/** Pure: a user's uid and group ids from /etc/passwd and /etc/group text. */
export function lookupUser(passwd: string, groupFile: string, name: string): { uid: number; gids: number[] } | null {
  const entry = passwd.split("\n").map((l) => l.split(":")).find((f) => f[0] === name);
  if (!entry || entry.length < 4) return null;
  const gids = [Number(entry[3])];
  for (const line of groupFile.split("\n")) {
    const f = line.split(":");
    if (f.length >= 4 && f[3].split(",").includes(name)) gids.push(Number(f[2]));
  }
  return { uid: Number(entry[2]), gids };
}

/** /etc/passwd is world-readable: whether the user exists needs no root. */
function daemonUserExists(): boolean | null {
  try {
    return lookupUser(readFileSync("/etc/passwd", "utf8"), "", DAEMON_USER) !== null;
  } catch {
    return null;
  }
}

export async function checkDirWrite(directory: string): Promise<DirWrite> {
  const result: DirWrite = { directory, realPath: directory, exists: false, writable: false, daemonUserWritable: null, daemonUserExists: daemonUserExists() };
  let info;
  try {
    info = await stat(directory);
  } catch (error) {
    result.error = errorText(error);
    result.code = (error as NodeJS.ErrnoException).code;
    return result;
  }
  if (!info.isDirectory()) {
    result.error = "not a directory";
    result.code = "ENOTDIR";
    return result;
  }
  result.exists = true;
  result.realPath = await realpath(directory).catch(() => directory);
  const probe = `${directory.replace(/\/$/, "")}/.edge-agent-doctor-${process.pid}.tmp`;
  try {
    // node-exporter reads only *.prom, so this file is never scraped even for its instant.
    await writeFile(probe, "", { flag: "wx", mode: 0o600 });
    await unlink(probe);
    result.writable = true;
  } catch (error) {
    result.error = errorText(error);
  }
  if (process.getuid?.() === 0) {
    try {
      const user = lookupUser(readFileSync("/etc/passwd", "utf8"), readFileSync("/etc/group", "utf8"), DAEMON_USER);
      if (user) result.daemonUserWritable = modeAllowsWrite(info.mode, info.uid, info.gid, user.uid, user.gids);
    } catch {
      /* no passwd to read: leave it unknown */
    }
  }
  return result;
}
