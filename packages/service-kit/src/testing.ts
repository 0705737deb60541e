/**
 * Test helpers shared by every subgraph's tests (`@boxoffice/service-kit/testing`): a private,
 * migrated database per test file on the real PostgreSQL from the infra global setup.
 */
import { randomBytes } from "node:crypto";
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

/**
 * Creates a uniquely named database `<prefix>_<random>` and applies the subgraph's migrations to it
 * with `prisma migrate deploy` (offline engine), run in `subgraphDir` (where prisma.config.ts is).
 *
 * @throws Error with Prisma's output when the migrations fail.
 */
export async function createMigratedDatabase(prefix: string, subgraphDir: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const code = await runPrisma(["migrate", "deploy"], {
    cwd: subgraphDir,
    stdio: "pipe",
    env: { ...process.env, DATABASE_URL: url.toString(), CHECKPOINT_DISABLE: "1" },
  });
  if (code !== 0) throw new Error(`prisma migrate deploy failed (exit ${code}) for ${subgraphDir}`);
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
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
