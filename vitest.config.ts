import { defineConfig } from "vitest/config";

// Each workspace package is a vitest project with its own config (global setup, timeouts).
// Globs, so a package without tests yet is simply absent rather than an error.
export default defineConfig({
  test: {
    projects: [
      "packages/*/vitest.config.ts",
      "subgraphs/*/vitest.config.ts",
      "{gateway,e2e}/vitest.config.ts",
      "examples/*/vitest.config.ts",
    ],
  },
});
