import { defineProject } from "vitest/config";

// Tests drive the real Prisma CLI against real PostgreSQL (DATABASE_URL, a superuser URL).
// Each file creates and drops its own databases, so files run in parallel and in any order.
export default defineProject({
  test: {
    name: "prisma-engine",
    isolate: false, // files share their worker's loaded modules (CONTRIBUTING.md, "Test")
    root: import.meta.dirname,
    // Real PostgreSQL (embedded unless DATABASE_URL is set), started by the shared launcher.
    globalSetup: ["@boxoffice/infra/vitest-global-setup"],
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
