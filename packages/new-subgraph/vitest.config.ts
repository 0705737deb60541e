import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "new-subgraph",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    // Real PostgreSQL and Kafka: the generated subgraph is migrated, started and queried.
    globalSetup: ["@boxoffice/infra/vitest-global-setup"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
