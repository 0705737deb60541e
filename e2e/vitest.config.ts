import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "e2e",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    globalSetup: ["@boxoffice/infra/vitest-global-setup"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Every platform these files start runs the real services, which use the real topics and the
    // real consumer groups (`orders.ticket-replica`, `tickets.session-denylist`, …). Two platforms at
    // once would split those groups' partitions between them and each would miss the other's events,
    // and start-command.test.ts needs the fixed ports 4000–4005. So the files run one at a time
    // (https://vitest.dev/guide/recipes/parallel-sequential), after every other project (groupOrder 1:
    // a project with its own worker count needs its own group).
    fileParallelism: false,
    sequence: { groupOrder: 1 },
  },
});
