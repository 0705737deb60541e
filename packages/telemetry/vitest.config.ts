import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "telemetry",
    root: import.meta.dirname,
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
  },
});
