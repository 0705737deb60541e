import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "platform",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    testTimeout: 60_000,
  },
});
