import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "accounts",
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    root: import.meta.dirname,
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    globalSetup: ["@boxoffice/infra/vitest-global-setup"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
