import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "auth-verify",
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
  },
});
