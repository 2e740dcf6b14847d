// Declares what a test file needs (root, binaries). Off CI a missing prerequisite skips the
// suite with a message naming it; under CI=true it fails loudly, never skips.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "vitest";

export interface Prereqs {
  root?: boolean;
  binaries?: string[];
}

export const IN_CI = process.env.CI === "true";

export function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/usr/local/sbin"];
  for (const dir of dirs) if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  return null;
}

function canUseNetns(): boolean {
  try {
    const name = `eaprobe${process.pid}`;
    execFileSync("ip", ["netns", "add", name], { stdio: "ignore" });
    execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function missingPrereqs(prereqs: Prereqs): string | null {
  const missing: string[] = [];
  if (prereqs.root && (process.getuid?.() !== 0 || !canUseNetns())) missing.push("root (network namespaces)");
  for (const bin of prereqs.binaries ?? []) if (!findBinary(bin)) missing.push(bin);
  return missing.length ? missing.join(", ") : null;
}

export function describeWith(prereqs: Prereqs, name: string, body: () => void): void {
  const missing = missingPrereqs(prereqs);
  if (!missing) {
    describe(name, body);
  } else if (IN_CI) {
    describe(name, () => {
      it("has what it needs to run", () => {
        throw new Error(`cannot run under CI: missing ${missing} (scripts/install-test-deps.sh installs the packages; run as root)`);
      });
    });
  } else {
    describe.skip(`${name} — skipped, missing: ${missing}`, body);
  }
}
