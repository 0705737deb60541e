import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "gateway",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    testTimeout: 30_000,
  },
});
