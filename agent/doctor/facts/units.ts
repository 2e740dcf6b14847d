// Whether a systemd unit is installed: its file in one of systemd's unit directories (the
// package's in /usr/lib, or /lib before merged /usr; an admin's in /etc), read without systemd.
import { existsSync } from "node:fs";

const UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];

export function unitInstalled(name: string, dirs: readonly string[] = UNIT_DIRS): boolean {
  return dirs.some((dir) => existsSync(`${dir}/${name}`));
}
