/**
 * Runs the real accounts subgraph as a separate process for the storefront tests: tokens come from its
 * signUp, the storefront verifier fetches its JWKS, its signOut publishes the `session.revoked` the
 * denylist consumes, and it resolves `User` entities behind the gateway. A subgraph never imports
 * another subgraph (CONVENTIONS.md), so it is started from its directory, like in production.
 *
 * Exports `TEST_ACCOUNTS_URL` (its /graphql URL) to the test workers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { createMigratedDatabase } from "@boxoffice/service-kit/testing";

const ACCOUNTS_DIR = path.resolve(import.meta.dirname, "../../../accounts");

export default async function setup(): Promise<() => Promise<void>> {
  if (!existsSync(path.join(ACCOUNTS_DIR, "src/generated/prisma"))) {
    throw new Error("subgraphs/accounts has no generated code: run `npx -y pnpm@12.4.2 run generate` there");
  }
  const db = await createMigratedDatabase("storefront_accounts", ACCOUNTS_DIR);
  const child = spawn(path.join(ACCOUNTS_DIR, "node_modules/.bin/tsx"), ["src/main.ts"], {
    cwd: ACCOUNTS_DIR,
    env: { ...process.env, DATABASE_URL: db.url, ACCOUNTS_PORT: "0", NODE_ENV: "test", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    process.env.TEST_ACCOUNTS_URL = await readyUrl(child);
  } catch (error) {
    child.kill("SIGKILL");
    await db.drop();
    throw error;
  }
  return async () => {
    await stop(child);
    await db.drop();
  };
}

/** Resolves with the URL from the "accounts subgraph ready" log line (pino JSON on stdout). */
function readyUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const output: string[] = [];
    const timer = setTimeout(
      () => reject(new Error(`accounts did not start in 60 s:\n${output.join("\n")}`)),
      60_000,
    );
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      output.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === "accounts subgraph ready" && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a JSON log line
      }
    });
    createInterface({ input: child.stderr! }).on("line", (line) => output.push(line));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`accounts exited with ${code} during start:\n${output.join("\n")}`));
    });
  });
}

/** SIGTERM (graceful shutdown), SIGKILL after 15 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}
