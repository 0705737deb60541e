import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "topology",
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
  },
});
