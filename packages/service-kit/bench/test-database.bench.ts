/**
 * What a test file pays for its database: migrating a fresh database with `prisma migrate deploy`
 * (how the harnesses worked before) against copying the migrated template (`createMigratedDatabase`
 * now). Both run alternately in one process, `ROUNDS` times per subgraph, and the medians and their
 * ratio are printed side by side.
 *
 *   npx -y pnpm@12.4.2 --filter @boxoffice/service-kit bench:test-database [rounds]
 *
 * Uses DATABASE_URL when set, else starts (or reuses) the local PostgreSQL.
 */
import path from "node:path";
import { up } from "@boxoffice/infra";
import { runPrisma } from "@boxoffice/prisma-engine";
import { SUBGRAPH_NAMES } from "@boxoffice/topology";
import pg from "pg";
import { createMigratedDatabase, migratedTemplate } from "../src/testing.ts";

const ROUNDS = Number(process.argv[2] ?? 5);
const ROOT = path.resolve(import.meta.dirname, "../../..");
const SUBGRAPHS = SUBGRAPH_NAMES;

const endpoints = await up({ report: () => undefined, only: ["postgres"] });
process.env.DATABASE_URL = endpoints.databaseUrl;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: endpoints.databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The old way: `prisma migrate deploy` into a new database (it creates the database itself). */
async function migrateFresh(dir: string): Promise<number> {
  const name = `bench_migrate_${Math.random().toString(36).slice(2, 10)}`;
  const url = new URL(endpoints.databaseUrl);
  url.pathname = `/${name}`;
  const start = performance.now();
  const code = await runPrisma(["migrate", "deploy"], {
    cwd: dir,
    stdio: "pipe",
    env: { ...process.env, DATABASE_URL: url.toString(), CHECKPOINT_DISABLE: "1" },
  });
  const ms = performance.now() - start;
  if (code !== 0) throw new Error(`migrate deploy failed in ${dir}`);
  await admin(`DROP DATABASE "${name}" WITH (FORCE)`);
  return ms;
}

async function cloneTemplate(dir: string): Promise<number> {
  const start = performance.now();
  const db = await createMigratedDatabase("bench_clone", dir);
  const ms = performance.now() - start;
  await db.drop();
  return ms;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

console.log(`per test-file database, ms (median of ${ROUNDS}, alternating)`);
console.log("subgraph     template build   migrate deploy   template copy   ratio");
for (const name of SUBGRAPHS) {
  const dir = path.join(ROOT, "subgraphs", name);
  // The build of a template, paid once per set of migration files (then kept on the server):
  // measured from scratch, so an existing template is dropped first.
  const existing = await migratedTemplate(dir);
  await admin(`ALTER DATABASE "${existing}" WITH IS_TEMPLATE false`);
  await admin(`DROP DATABASE "${existing}" WITH (FORCE)`);
  const buildStart = performance.now();
  await migratedTemplate(dir);
  const build = performance.now() - buildStart;
  const migrate: number[] = [];
  const clone: number[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    migrate.push(await migrateFresh(dir));
    clone.push(await cloneTemplate(dir));
  }
  const m = median(migrate);
  const c = median(clone);
  console.log(
    `${name.padEnd(12)} ${build.toFixed(0).padStart(14)} ${m.toFixed(0).padStart(16)} ${c.toFixed(0).padStart(15)}   ${(m / c).toFixed(1)}x`,
  );
}
