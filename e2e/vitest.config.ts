import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "e2e",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    globalSetup: ["@boxoffice/infra/vitest-global-setup"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
