/**
 * Vitest global setup: builds the web client once (`vite build` → dist/), so the browser tests
 * serve exactly what `pnpm start` serves. Typed operations come from `generate`, which the test
 * command's typecheck step runs first.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { build } from "vite";

const root = path.resolve(import.meta.dirname, "../..");

export default async function setup(): Promise<void> {
  if (!existsSync(path.join(root, "src/generated/index.ts"))) {
    throw new Error(
      "examples/web/src/generated is missing: run `npx -y pnpm@12.4.2 --filter @boxoffice/web generate`",
    );
  }
  await build({ root, configFile: path.join(root, "vite.config.ts"), logLevel: "warn" });
}
