import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

/** Package root (`packages/prisma-engine`). */
export const packageDir = fileURLToPath(new URL("..", import.meta.url));
/** The wrapper every service uses: `boxoffice-prisma <args>`. */
export const boxofficePrismaBin = path.join(packageDir, "bin", "boxoffice-prisma.js");
/** The engine executable the Prisma CLI execs. */
export const engineBin = path.join(packageDir, "bin", "schema-engine.js");

/**
 * The superuser URL tests run against. Missing is an error, never a skip: these tests are
 * the proof that migrations work offline, and a silent skip would hide that they did not run.
 */
export function databaseUrl(): string {
  const url = process.env["DATABASE_URL"];
  if (url === undefined || url === "") {
    throw new Error(
      "DATABASE_URL is not set. @boxoffice/prisma-engine tests need a PostgreSQL superuser URL, " +
        "e.g. DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres",
    );
  }
  return url;
}

/** `url` with its database replaced and optional `?schema=`. */
export function urlFor(database: string, schema?: string): string {
  const url = new URL(databaseUrl());
  url.pathname = `/${database}`;
  url.searchParams.delete("schema");
  if (schema !== undefined) url.searchParams.set("schema", schema);
  return url.toString();
}

/** A unique, valid database name for this test file. */
export function uniqueName(label: string): string {
  return `pe_${label}_${randomBytes(4).toString("hex")}`;
}

/** Runs SQL on `database` (default: the DATABASE_URL database) and returns the rows. */
export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  database: string | undefined,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({
    connectionString: database === undefined ? databaseUrl() : urlFor(database),
  });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Creates an empty database. */
export async function createDatabase(name: string): Promise<void> {
  await sql(undefined, `CREATE DATABASE "${name}"`);
}

/** Drops databases if they exist (terminating their sessions). */
export async function dropDatabases(...names: string[]): Promise<void> {
  for (const name of names) await sql(undefined, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** Names of the leftover temporary shadow databases (the engine must drop its own). */
export async function shadowDatabases(): Promise<string[]> {
  const rows = await sql<{ datname: string }>(
    undefined,
    "SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'",
  );
  return rows.map((r) => r.datname);
}

/** Tables (`schema.table`) of a database outside the system schemas. */
export async function userTables(database: string): Promise<string[]> {
  const rows = await sql<{ name: string }>(
    database,
    `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
     WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
  );
  return rows.map((r) => r.name).sort();
}

/** A throwaway Prisma project folder (prisma.config.ts + prisma/schema.prisma). */
export interface Project {
  dir: string;
  schemaFile: string;
  migrationsDir: string;
  writeSchema(models: string): Promise<void>;
  writeMigration(name: string, script: string): Promise<void>;
  remove(): Promise<void>;
}

const CONFIG = `import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: {
    url: process.env["DATABASE_URL"] ?? "",
    shadowDatabaseUrl: process.env["SHADOW_DATABASE_URL"],
  },
});
`;

const HEADER = `generator client {
  provider               = "prisma-client"
  output                 = "../generated/prisma"
  moduleFormat           = "esm"
  generatedFileExtension = "ts"
  importFileExtension    = "ts"
}

datasource db {
  provider = "postgresql"
}
`;

/**
 * Creates a project under `packages/prisma-engine/.data/test-runs/` (git-ignored), so that
 * `prisma/config` and the generated client's `@prisma/client` resolve from this package.
 */
export async function createProject(label: string, models: string): Promise<Project> {
  const dir = path.join(packageDir, ".data", "test-runs", `${label}-${randomBytes(4).toString("hex")}`);
  const schemaFile = path.join(dir, "prisma", "schema.prisma");
  const migrationsDir = path.join(dir, "prisma", "migrations");
  await mkdir(path.dirname(schemaFile), { recursive: true });
  await writeFile(path.join(dir, "prisma.config.ts"), CONFIG);
  const project: Project = {
    dir,
    schemaFile,
    migrationsDir,
    writeSchema: (m) => writeFile(schemaFile, `${HEADER}\n${m}`),
    async writeMigration(name, script) {
      await mkdir(path.join(migrationsDir, name), { recursive: true });
      await writeFile(path.join(migrationsDir, name, "migration.sql"), script);
      await writeFile(
        path.join(migrationsDir, "migration_lock.toml"),
        '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
      );
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  await project.writeSchema(models);
  return project;
}

/** Outcome of one CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout + stderr, for assertions on what a user sees. */
  output: string;
}

/**
 * Runs `node <bin> ...args` in `cwd` with the test's environment on top of a clean one
 * (no inherited PRISMA_* / DEBUG), and collects its output.
 */
export function run(
  bin: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("PRISMA_") && key !== "DEBUG" && key !== "DATABASE_URL") base[key] = value;
  }
  const childEnv: NodeJS.ProcessEnv = {
    ...base,
    CHECKPOINT_DISABLE: "1",
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    NO_COLOR: "1",
  };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` }));
  });
}

/** `boxoffice-prisma ...args` in a project, with DATABASE_URL set to `url`. */
export function prisma(
  project: Project,
  args: readonly string[],
  url: string,
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  return run(boxofficePrismaBin, args, project.dir, { DATABASE_URL: url, ...env });
}
