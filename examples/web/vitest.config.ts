import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "web",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    globalSetup: ["@boxoffice/infra/vitest-global-setup", "./test/support/build-app.ts"],
    testTimeout: 90_000,
    hookTimeout: 180_000,
    // One file (a whole platform and a Chromium), in the first group beside the other projects' files:
    // its checks poll (up to 20 s) rather than time anything. Alone after e2e it added ~40 s to the
    // test command on a 2-core machine.
  },
});
