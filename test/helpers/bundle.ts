// The program under test: the esbuild bundle the packages install as /usr/bin/edge-agent, built
// once per test run by test/global-setup.ts. Integration and e2e tests run this file, never the
// TypeScript sources, because the two have behaved differently (the bundle is strict-mode code).
import { join } from "node:path";
import { REPO_ROOT } from "./repo";

export const BUNDLE_DIR = join(REPO_ROOT, "dist/test-bundle");
export const BUNDLE = join(BUNDLE_DIR, "edge-agent");
