import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "payments",
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    root: import.meta.dirname,
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    // Real PostgreSQL + Kafka, then ONE real accounts subgraph process (tokens, JWKS)
    // shared by the test files.
    globalSetup: ["@boxoffice/infra/vitest-global-setup", "./test/support/accounts.global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
