import { defineConfig } from "vitest/config";

// Each workspace package is a vitest project with its own config (global setup, timeouts).
// Globs, so a package without tests yet is simply absent rather than an error.
export default defineConfig({
  test: {
    // One test file at a time outside e2e too (vitest's default on 2 cores). Two at a time
    // (`maxWorkers: 2`) took those projects from 366 s to ~245 s, but a fresh-clone run with it failed
    // storefront's queries.test.ts start: kafkajs' admin answered UNKNOWN_TOPIC_OR_PARTITION while
    // creating the file's topics next to another file deleting its own — not yet understood, so
    // reverted (2026-12-03 session note).
    projects: [
      "packages/*/vitest.config.ts",
      "subgraphs/*/vitest.config.ts",
      "{gateway,e2e}/vitest.config.ts",
      "examples/*/vitest.config.ts",
    ],
  },
});
