import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "service-kit",
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    // Real PostgreSQL and Kafka for the denylist tests (CONVENTIONS.md: infrastructure is never mocked).
    globalSetup: ["@boxoffice/infra/vitest-global-setup"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
