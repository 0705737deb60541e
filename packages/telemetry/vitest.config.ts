import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "telemetry",
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    root: import.meta.dirname,
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The tests start fresh Node processes (tracing state is per process) through tsx.
    testTimeout: 60_000,
  },
});
