import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "auth-verify",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
  },
});
