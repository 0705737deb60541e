import path from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// Node's module compile cache (https://nodejs.org/api/module.html#module-compile-cache) for every
// process a test run starts. The platforms' subgraphs and gateways write it when they stop, so each
// later start reuses the V8 code compiled for the same files (vitest's own workers end without
// writing it). A run starts about a hundred such processes, most of their CPU start-up; with the
// cache, an e2e file that starts one platform took about 12% less CPU (warm: 22.3 and 24.1
// CPU-seconds against 26.5 and 26.8).
// Node checks each file's content before reusing an entry, so a stale one costs only disk space:
// delete the folder to reclaim it, or set NODE_DISABLE_COMPILE_CACHE=1 to run without the cache.
process.env.NODE_COMPILE_CACHE ??= path.join(import.meta.dirname, "node_modules/.cache/node-compile-cache");

/**
 * The projects whose files start first, in this order: each is one or two long files (a Chromium on
 * a whole platform; a copy of the checkout installed, built and started; the compose and migration
 * runs), so started last, as vitest's alphabetical project order had them, they ran alone at the
 * end while the other worker idled. Measured (`vitest run --project '!e2e'` with the JSON reporter,
 * file start and end times): 61 s at the end with one file or none running, web's global setup and
 * its one file. Longest first is the classic schedule for jobs on a fixed number of workers. With
 * them first the same command took 358 s against 379.5 s (one run each, one machine, one commit).
 */
const LONG_PROJECTS_FIRST = ["web", "new-subgraph", "platform", "prisma-engine"];

/**
 * vitest's order (`sequence.groupOrder`, projects one after another, files by size or last duration),
 * except that the projects in `LONG_PROJECTS_FIRST` come first within their group.
 */
class LongProjectsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONG_PROJECTS_FIRST.indexOf(f.project.name);
      return i === -1 ? LONG_PROJECTS_FIRST.length : i;
    };
    const group = (f: TestSpecification) => f.project.config.sequence.groupOrder;
    // Array.prototype.sort is stable: files that compare equal keep vitest's order.
    return sorted.sort((a, b) => group(a) - group(b) || rank(a) - rank(b));
  }
}

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
    sequence: { sequencer: LongProjectsFirst },
    projects: [
      "packages/*/vitest.config.ts",
      "subgraphs/*/vitest.config.ts",
      "{gateway,e2e}/vitest.config.ts",
      "examples/*/vitest.config.ts",
    ],
  },
});
