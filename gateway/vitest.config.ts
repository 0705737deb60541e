import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "gateway",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    // Real PostgreSQL for the operation budget shared by instances (CONVENTIONS.md: never mocked).
    globalSetup: ["@boxoffice/infra/vitest-global-setup"],
    testTimeout: 30_000,
  },
});
