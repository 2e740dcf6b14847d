// Builds the bundle once per test run (scripts/build.sh, the packages' own build) into
// dist/test-bundle/, where test/helpers/bundle.ts points every test that starts edge-agent.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { BUNDLE_DIR } from "./helpers/bundle";
import { REPO_ROOT } from "./helpers/repo";

export default function setup(): void {
  execFileSync("bash", [join(REPO_ROOT, "scripts/build.sh")], { cwd: REPO_ROOT, env: { ...process.env, BUNDLE_OUT: BUNDLE_DIR }, stdio: ["ignore", "ignore", "inherit"] });
}
