import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "topology",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
  },
});
