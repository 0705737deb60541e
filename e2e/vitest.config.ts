import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "e2e",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    // The build first: platforms run the compiled deployables (test/support/build.global-setup.ts).
    globalSetup: ["./test/support/build.global-setup.ts", "@boxoffice/infra/vitest-global-setup"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Each platform is six Node processes (its own database and KAFKA_NAMESPACE, so platforms don't
    // see each other's events), and start-command.test.ts needs the fixed ports 4000–4005 and the
    // standard topic names. Several at once would starve each other on a small machine and the
    // time-bounded checks (revocation within 1 s) would measure the machine, so the files run one at a
    // time (https://vitest.dev/guide/recipes/parallel-sequential), after every other project
    // (groupOrder 1: a project with its own worker count needs its own group).
    fileParallelism: false,
    sequence: { groupOrder: 1 },
  },
});
