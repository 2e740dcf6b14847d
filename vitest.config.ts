import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The bundle the packages ship, built once: what integration and e2e tests run.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real daemons; two cores, so keep the fan-out modest.
    maxWorkers: 4,
    reporters: ["default"],
  },
});
