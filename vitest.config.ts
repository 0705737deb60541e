import path from "node:path";
import { defineConfig } from "vitest/config";

// Node's module compile cache (https://nodejs.org/api/module.html#module-compile-cache) for every
// process a test run starts: the vitest workers and the platforms' subgraphs and gateways inherit it
// from here, so each reuses the V8 code the first one compiled for the same files. A run starts about
// two hundred Node processes, most of them mostly start-up; with the cache, an e2e file that starts
// one platform took about 12% less CPU (warm: 22.3 and 24.1 CPU-seconds against 26.5 and 26.8).
// Inside node_modules, so a reinstall clears it; Node checks each file's content before reusing.
process.env.NODE_COMPILE_CACHE ??= path.join(import.meta.dirname, "node_modules/.cache/node-compile-cache");

// Each workspace package is a vitest project with its own config (global setup, timeouts).
// Globs, so a package without tests yet is simply absent rather than an error.
export default defineConfig({
  test: {
    // Two test files at a time on the 2-core machines this runs on (vitest's default there is one:
    // available parallelism − 1). Most files wait on Kafka group joins, PostgreSQL and child
    // processes rather than compute: two at once took the non-e2e projects from ~366 s to ~245 s.
    // (Reverted once after a start failure, UNKNOWN_TOPIC_OR_PARTITION while creating topics beside
    // another file's deletions: a kafkajs wait that ensureTopics no longer uses, events/topics.ts.)
    // The e2e project keeps one file at a time (its own config).
    maxWorkers: 2,
    projects: [
      "packages/*/vitest.config.ts",
      "subgraphs/*/vitest.config.ts",
      "{gateway,e2e}/vitest.config.ts",
      "examples/*/vitest.config.ts",
    ],
  },
});
