import { defineConfig } from "vitest/config";

// Each workspace package is a vitest project with its own config (global setup, timeouts).
export default defineConfig({
  test: {
    projects: [
      "packages/*/vitest.config.ts",
      "subgraphs/*/vitest.config.ts",
      "gateway/vitest.config.ts",
      "e2e/vitest.config.ts",
    ],
  },
});
