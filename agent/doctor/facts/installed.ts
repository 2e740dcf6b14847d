// Whether a program is installed, so a finding can say "not installed" rather than "not running".
import { existsSync } from "node:fs";

const SYSTEM_DIRS = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"];

export function isInstalled(...names: string[]): boolean {
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), ...SYSTEM_DIRS];
  return names.some((name) => dirs.some((dir) => existsSync(`${dir}/${name}`)));
}
