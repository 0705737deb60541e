import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
// A CommonJS bundle whose named exports Node cannot detect: use the default export.
import getPlatform from "@prisma/get-platform";

const require = createRequire(import.meta.url);

/** Absolute path of this package's engine executable (`bin/schema-engine.js`). */
export const schemaEngineBinPath: string = fileURLToPath(new URL("../bin/schema-engine.js", import.meta.url));

/** Absolute path of the Prisma CLI entry this package pins (`prisma@7.10.0`, `build/index.js`). */
export const prismaCliPath: string = require.resolve("prisma/build/index.js");

/** The variables the Prisma CLI reads to locate a schema engine, newest first. */
export const ENGINE_ENV_VARS = ["PRISMA_SCHEMA_ENGINE_BINARY", "PRISMA_MIGRATION_ENGINE_BINARY"] as const;

/**
 * The folders the Prisma CLI 7.10 searches for the native `schema-engine-<binaryTarget>`
 * (`resolveBinary` in `prisma/build/cli.js`): `@prisma/engines` (where its postinstall
 * downloads to), the `prisma` package, the folder containing it, and `prisma/runtime`.
 */
export function nativeEngineSearchDirs(): string[] {
  const prismaDir = path.dirname(require.resolve("prisma/package.json"));
  const fromPrisma = createRequire(path.join(prismaDir, "package.json"));
  const enginesDir = path.dirname(fromPrisma.resolve("@prisma/engines/package.json"));
  return [enginesDir, prismaDir, path.dirname(prismaDir), path.join(prismaDir, "runtime")];
}

/** How the Prisma CLI will get its schema engine. */
export type SchemaEngineChoice =
  | { kind: "env"; variable: string; path: string }
  | { kind: "native"; path: string }
  | { kind: "wasm"; path: string };

/** Inputs of {@link chooseSchemaEngine}; all optional, defaults read the real machine. */
export interface ChooseSchemaEngineOptions {
  env?: NodeJS.ProcessEnv;
  /** Folders to look for the native engine in (default {@link nativeEngineSearchDirs}). */
  searchDirs?: string[];
  /** Prisma binary target, e.g. `debian-openssl-3.0.x` (default: detected like Prisma does). */
  binaryTarget?: string;
}

/**
 * Decides which schema engine the Prisma CLI should run:
 * 1. an engine variable that is already set wins (`env`), untouched;
 * 2. else a native `schema-engine-<target>` in the CLI's search folders (`native`);
 * 3. else this package's WASM-backed executable (`wasm`).
 *
 * @throws never for a missing engine; only if Prisma's platform detection itself fails.
 */
export async function chooseSchemaEngine(
  options: ChooseSchemaEngineOptions = {},
): Promise<SchemaEngineChoice> {
  const env = options.env ?? process.env;
  for (const variable of ENGINE_ENV_VARS) {
    const value = env[variable];
    if (value !== undefined && value !== "") return { kind: "env", variable, path: value };
  }
  const target = options.binaryTarget ?? (await getPlatform.getBinaryTargetForCurrentPlatform());
  const fileName = `schema-engine-${target}${target === "windows" ? ".exe" : ""}`;
  for (const dir of options.searchDirs ?? nativeEngineSearchDirs()) {
    const candidate = path.join(dir, fileName);
    if (existsSync(candidate)) return { kind: "native", path: candidate };
  }
  return { kind: "wasm", path: schemaEngineBinPath };
}

/**
 * The environment to run the Prisma CLI with: a copy of `options.env` (default
 * `process.env`) where `PRISMA_SCHEMA_ENGINE_BINARY` points at this package's engine ONLY
 * when no engine variable is set and no native engine is installed.
 */
export async function prismaCliEnv(options: ChooseSchemaEngineOptions = {}): Promise<NodeJS.ProcessEnv> {
  const env = { ...(options.env ?? process.env) };
  const choice = await chooseSchemaEngine({ ...options, env });
  if (choice.kind === "wasm") env["PRISMA_SCHEMA_ENGINE_BINARY"] = choice.path;
  return env;
}

/** Options of {@link runPrisma}. */
export interface RunPrismaOptions extends ChooseSchemaEngineOptions {
  /** Working directory, where `prisma.config.ts` is looked up (default `process.cwd()`). */
  cwd?: string;
  /** `inherit` (default) for a terminal; `pipe` to collect output (see {@link runPrismaCaptured}). */
  stdio?: "inherit" | "pipe";
}

/**
 * Runs this package's Prisma CLI (`node prisma/build/index.js …args`) with
 * {@link prismaCliEnv} and resolves to its exit code (128 + signal number when killed).
 * SIGINT/SIGTERM received meanwhile are forwarded to the CLI.
 */
export async function runPrisma(args: readonly string[], options: RunPrismaOptions = {}): Promise<number> {
  const env = await prismaCliEnv(options);
  const child = spawn(process.execPath, [prismaCliPath, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env,
    stdio: options.stdio ?? "inherit",
  });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => {
        resolve(code ?? 128 + (signal === null ? 0 : signalNumber(signal)));
      });
    });
  } finally {
    process.off("SIGINT", forward);
    process.off("SIGTERM", forward);
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 1;
}
