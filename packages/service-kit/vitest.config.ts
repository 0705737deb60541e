import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { name: "service-kit", root: import.meta.dirname, include: ["test/**/*.test.ts"] },
});
