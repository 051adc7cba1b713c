import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Store suites share one PostgreSQL database (one schema per file), so files run in parallel
    // but each file's tests run in order.
    sequence: { concurrent: false },
  },
});
