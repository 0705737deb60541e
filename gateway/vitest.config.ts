import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { name: "gateway", root: import.meta.dirname, include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
