#!/usr/bin/env node
// Entry the Prisma CLI execs through PRISMA_SCHEMA_ENGINE_BINARY. It loads the TypeScript
// sources through tsx's ESM loader (no build step in this workspace) and turns any start-up
// failure into a JSON ERROR line on stderr (the only channel the Prisma CLI shows) and into
// the debug log (BOXOFFICE_SCHEMA_ENGINE_DEBUG_LOG).
import { appendFileSync } from "node:fs";
import { register } from "tsx/esm/api";

const debugLog = process.env.BOXOFFICE_SCHEMA_ENGINE_DEBUG_LOG;

function fatal(error) {
  // A Rust panic surfaces as `RuntimeError: unreachable`; its text is in the panic registry.
  const panic = globalThis.PRISMA_WASM_PANIC_REGISTRY?.get();
  const message = `${error instanceof Error ? error.message : String(error)}${panic ? ` (${panic})` : ""}`;
  const fields = { message: `@boxoffice/prisma-engine failed: ${message}` };
  process.stderr.write(
    `${JSON.stringify({ timestamp: new Date().toISOString(), level: "ERROR", target: "schema_engine::logger", fields })}\n`,
  );
  if (debugLog) {
    try {
      const detail = error instanceof Error ? (error.stack ?? message) : message;
      appendFileSync(debugLog, `${new Date().toISOString()} pid=${process.pid} fatal ${detail}\n`);
    } catch {
      // best effort
    }
  }
  process.exit(1);
}

process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);

try {
  register();
  const { main } = await import("../src/engine/main.ts");
  const { createDebugLog } = await import("../src/engine/debug-log.ts");
  const log = createDebugLog(process.env);
  const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
  const code = await main(process.argv.slice(2), io, log);
  log.write("exit", String(code));
  // Pools of pg keep the event loop alive; the engine's life ends with its stdio.
  process.stdout.write("", () => process.exit(code));
} catch (error) {
  fatal(error);
}
