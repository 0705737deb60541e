import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "web",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    globalSetup: ["@boxoffice/infra/vitest-global-setup", "./test/support/build-app.ts"],
    testTimeout: 90_000,
    hookTimeout: 180_000,
    // Each file starts a whole platform (six Node processes) and a Chromium: like e2e, one file at a
    // time, after every other group (e2e is group 1), so they never starve each other's processes.
    fileParallelism: false,
    sequence: { groupOrder: 2 },
  },
});
