import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real daemons; two cores, so keep the fan-out modest.
    maxWorkers: 4,
    reporters: ["default"],
  },
});
