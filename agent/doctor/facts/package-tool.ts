// Which package manager this host uses, from os-release (/etc/os-release, else
// /usr/lib/os-release, the order os-release(5) gives), so install fixes name apt or dnf.
import { readFileSync } from "node:fs";
import { packageToolOf, type PackageTool } from "../install";

export function hostPackageTool(paths: readonly string[] = ["/etc/os-release", "/usr/lib/os-release"]): PackageTool | null {
  for (const path of paths) {
    try {
      return packageToolOf(readFileSync(path, "utf8"));
    } catch {
      /* absent: try the next */
    }
  }
  return null;
}
