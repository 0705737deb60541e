import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

// Resolved through node_modules (the workspace dependency), never by a relative path into infra.
const require = createRequire(import.meta.url);
const infraGlobalSetup = require.resolve("@boxoffice/infra/vitest-global-setup");

export default defineConfig({
  test: {
    name: "events",
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    root: import.meta.dirname,
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Real PostgreSQL and Kafka for every test (CONVENTIONS.md: infrastructure is never mocked).
    globalSetup: [infraGlobalSetup],
    // Kafka group joins, a 20 s broker outage and child-process crash tests take tens of seconds.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
