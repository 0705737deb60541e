/**
 * Test helpers shared by every subgraph's tests (`@boxoffice/service-kit/testing`): a private,
 * migrated database per test file on the real PostgreSQL from the infra global setup.
 *
 * Migrating is the slow part (a `prisma migrate deploy` process per database), so each subgraph's
 * migrations run once into a template database named after a hash of the migration files, and every
 * test file gets a copy of it (`CREATE DATABASE … TEMPLATE`, as trigger.dev's tests do): a copy is a
 * file-level clone inside PostgreSQL, tens of milliseconds instead of seconds.
 */
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { runPrisma } from "@boxoffice/prisma-engine";
import pg from "pg";

export interface TestDatabase {
  /** URL of the new database (same server and credentials as DATABASE_URL). */
  url: string;
  /** Drops the database (terminating leftover connections). */
  drop: () => Promise<void>;
}

function adminUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error(
      "DATABASE_URL is not set: add @boxoffice/infra/vitest-global-setup to this project's globalSetup",
    );
  return url;
}

function databaseUrl(name: string, admin = adminUrl()): string {
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(run: (client: pg.Client) => Promise<T>, admin = adminUrl()): Promise<T> {
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** sha256 over every file under `dir` (relative path and content, in path order), hex. */
async function hashTree(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  for (const file of files) {
    hash.update(path.relative(dir, file)).update("\0");
    hash.update(await readFile(file)).update("\0");
  }
  return hash.digest("hex");
}

async function migrate(subgraphDir: string, url: string): Promise<void> {
  const code = await runPrisma(["migrate", "deploy"], {
    cwd: subgraphDir,
    stdio: "pipe",
    env: { ...process.env, DATABASE_URL: url, CHECKPOINT_DISABLE: "1" },
  });
  if (code !== 0) throw new Error(`prisma migrate deploy failed (exit ${code}) for ${subgraphDir}`);
}

/**
 * The name of the template database holding the migrations of `subgraphDirs` (each subgraph migrates
 * its own schema, so several share one database as on the platform), building it first when no
 * template for these exact migration files exists: `tpl_<key>_<first 16 hex of the hash>` (`key`
 * defaults to the one subgraph's folder name) on the server `adminDatabaseUrl` (default
 * DATABASE_URL). Changed migrations hash differently, so a stale template is never used; the older
 * templates of the same key are dropped when the new one is built.
 *
 * Concurrent callers (vitest workers, projects) serialise on a PostgreSQL advisory lock, so the
 * migrations run once. The template is migrated under a temporary name and renamed when complete, so
 * a run killed half-way leaves no half-migrated template behind. `ALLOW_CONNECTIONS false` keeps
 * clients off it: PostgreSQL refuses to copy a database that has other sessions.
 *
 * @throws Error with Prisma's exit code when the migrations fail.
 */
export async function migratedTemplate(
  subgraphDirs: string | string[],
  options: { key?: string; adminDatabaseUrl?: string } = {},
): Promise<string> {
  const server = options.adminDatabaseUrl ?? adminUrl();
  const dirs = typeof subgraphDirs === "string" ? [subgraphDirs] : subgraphDirs;
  const name = (options.key ?? path.basename(dirs[0] ?? "none")).replace(/[^a-z0-9]/gi, "_").toLowerCase();
  const hashes = await Promise.all(dirs.map((dir) => hashTree(path.join(dir, "prisma/migrations"))));
  const hash = createHash("sha256").update(hashes.join("\0")).digest("hex").slice(0, 16);
  const template = `tpl_${name}_${hash}`;
  const lockKey = `boxoffice-template:${name}`;
  return withAdmin(async (admin) => {
    // Session-level lock: released by unlock, or by the disconnect if this process dies.
    await admin.query("SELECT pg_advisory_lock(hashtext($1))", [lockKey]);
    try {
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
      if (exists.rowCount) return template;
      const stale = await admin.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2",
        [`tpl\\_${name}\\_%`, template],
      );
      for (const { datname } of stale.rows) {
        await admin.query(`ALTER DATABASE "${datname}" WITH IS_TEMPLATE false`);
        await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
      const building = `${template}_${randomBytes(3).toString("hex")}`;
      try {
        for (const dir of dirs) await migrate(dir, databaseUrl(building, server));
        await admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
      } catch (error) {
        await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
        throw error;
      }
      await admin.query(`ALTER DATABASE "${template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
      return template;
    } finally {
      await admin.query("SELECT pg_advisory_unlock(hashtext($1))", [lockKey]);
    }
  }, server);
}

/**
 * Creates a uniquely named database `<prefix>_<random>` holding the subgraph's migrations: a copy of
 * the template from {@link migratedTemplate} (`subgraphDir` is where prisma.config.ts and
 * prisma/migrations are).
 *
 * @throws Error with Prisma's exit code when the migrations fail.
 */
export async function createMigratedDatabase(prefix: string, subgraphDir: string): Promise<TestDatabase> {
  const template = await migratedTemplate(subgraphDir);
  return createDatabase(prefix, `TEMPLATE "${template}"`);
}

/**
 * Creates an empty, uniquely named database `<prefix>_<random>` (no schema but `public`): for code that
 * creates its own tables at start-up, such as the gateway's rate-limit store.
 */
export function createEmptyDatabase(prefix: string): Promise<TestDatabase> {
  return createDatabase(prefix, "");
}

async function createDatabase(prefix: string, clause: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${name}" ${clause}`));
  return {
    url: databaseUrl(name),
    drop: () =>
      withAdmin(async (admin) => {
        // Connections the test's apps just closed can still be on their way out; FORCE would terminate
        // them mid-close and a client that is ending reports that as an unhandled 'error' event
        // ("terminating connection due to administrator command"). Give them up to 5 s, then force.
        for (let i = 0; i < 50; i += 1) {
          const { rows } = await admin.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1",
            [name],
          );
          if ((rows[0]?.n ?? 0) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }),
  };
}

/** Posts a GraphQL operation and returns the HTTP response and parsed body. */
export async function graphqlRequest(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ res: Response; body: GraphQLBody }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { res, body: (await res.json()) as GraphQLBody };
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
}
