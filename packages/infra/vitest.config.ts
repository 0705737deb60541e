import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "infra",
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    // These tests start their own engines on their own ports and data directories, and the Kafka
    // proof test uses the shared ones from global setup.
    globalSetup: ["./src/vitest-global-setup.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
