import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createProject,
  databaseUrl,
  dropDatabases,
  prisma,
  shadowDatabases,
  sql,
  uniqueName,
  urlFor,
  userTables,
  type Project,
} from "./support.ts";

// One database and one project walk through the `migrate dev` life cycle in order:
// first migration (database created by the CLI), --create-only, a hand-edited migration with
// a $$ body and a ';' literal, drift, reset. Steps depend on each other by design.
const SCHEMA = "tickets";
const database = uniqueName("dev");
const url = urlFor(database, SCHEMA);
let project: Project;

const V1 = `model Ticket {
  id    Int    @id @default(autoincrement())
  title String
}
`;
const V2 = `model Ticket {
  id    Int    @id @default(autoincrement())
  title String
  price Int    @default(0)
}
`;

const FUNCTION_SQL = `
-- A PL/pgSQL body full of ';' and a string literal containing ';' (pitfall 4).
CREATE FUNCTION ticket_label(t_title text, t_price integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  label text;
BEGIN
  label := t_title || '; ' || t_price::text;
  RETURN label;
END;
$$;

INSERT INTO "Ticket" ("title", "price") VALUES ('Opening night; row A; seat 1', 42);
`;

async function migrationNames(): Promise<string[]> {
  return (await readdir(project.migrationsDir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

describe("prisma migrate dev / reset through boxoffice-prisma (offline engine)", () => {
  beforeAll(async () => {
    databaseUrl();
    project = await createProject("dev", V1);
  });
  afterAll(async () => {
    await dropDatabases(database);
    await project.remove();
  });

  it("creates the missing database and applies the first migration into the target schema only", async () => {
    const result = await prisma(project, ["migrate", "dev", "--name", "init"], url);
    expect(result.output).toContain(`PostgreSQL database ${database} created`);
    expect(result.code, result.output).toBe(0);
    expect(await migrationNames()).toEqual([expect.stringMatching(/_init$/)]);
    // Pitfall 5: unqualified DDL lands in ?schema=, and nothing in public.
    expect(await userTables(database)).toEqual([`${SCHEMA}.Ticket`, `${SCHEMA}._prisma_migrations`]);
  });

  it("--create-only writes the next migration without applying it", async () => {
    await project.writeSchema(V2);
    const result = await prisma(project, ["migrate", "dev", "--create-only", "--name", "price"], url);
    expect(result.code, result.output).toBe(0);
    const names = await migrationNames();
    expect(names).toHaveLength(2);
    const script = await readFile(path.join(project.migrationsDir, names[1] ?? "", "migration.sql"), "utf8");
    expect(script).toMatch(/ALTER TABLE "Ticket" ADD COLUMN\s+"price" INTEGER NOT NULL DEFAULT 0/);
    const columns = await sql<{ column_name: string }>(
      database,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'Ticket'",
      [SCHEMA],
    );
    expect(columns.map((c) => c.column_name).sort()).toEqual(["id", "title"]);
  });

  it("applies a hand-edited migration with a $$ body and a ';' literal intact, using a separate shadow database", async () => {
    const names = await migrationNames();
    const file = path.join(project.migrationsDir, names[1] ?? "", "migration.sql");
    await writeFile(file, `${await readFile(file, "utf8")}${FUNCTION_SQL}`);
    const logFile = path.join(project.dir, "engine-debug.log");

    const result = await prisma(project, ["migrate", "dev", "--name", "noop"], url, {
      BOXOFFICE_SCHEMA_ENGINE_DEBUG_LOG: logFile,
    });
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toMatch(/P3006|already exists/);

    // Pitfall 4: the function works and the literal is byte for byte what was written.
    const [row] = await sql<{ label: string; title: string }>(
      database,
      `SELECT "${SCHEMA}".ticket_label(title, price) AS label, title FROM "${SCHEMA}"."Ticket"`,
    );
    expect(row).toEqual({ title: "Opening night; row A; seat 1", label: "Opening night; row A; seat 1; 42" });

    // Pitfall 2: the shadow database was a database of its own, and it is gone afterwards.
    const log = await readFile(logFile, "utf8");
    const created = /shadow-create database=(prisma_migrate_shadow_db_[0-9a-f-]+)/.exec(log)?.[1];
    expect(created).toBeDefined();
    expect(created).not.toBe(database);
    expect(log).toContain(`shadow-drop database=${created ?? ""}`);
    expect(await shadowDatabases()).not.toContain(created);
    expect(await userTables(database)).toEqual([`${SCHEMA}.Ticket`, `${SCHEMA}._prisma_migrations`]);
  });

  it("reports drift when the database was changed behind the migrations' back", async () => {
    await sql(database, `ALTER TABLE "${SCHEMA}"."Ticket" ADD COLUMN rogue text`);
    const result = await prisma(project, ["migrate", "dev", "--name", "after_drift"], url);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("Drift detected");
    expect(result.output).toMatch(/rogue/);
  });

  it("migrate reset --force drops everything and replays the migrations", async () => {
    const result = await prisma(project, ["migrate", "reset", "--force"], url);
    expect(result.code, result.output).toBe(0);
    const columns = await sql<{ column_name: string }>(
      database,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'Ticket'",
      [SCHEMA],
    );
    expect(columns.map((c) => c.column_name).sort()).toEqual(["id", "price", "title"]);
    const rows = await sql<{ title: string }>(database, `SELECT title FROM "${SCHEMA}"."Ticket"`);
    expect(rows).toEqual([{ title: "Opening night; row A; seat 1" }]);
    const applied = await sql<{ n: string }>(
      database,
      `SELECT count(*)::text AS n FROM "${SCHEMA}"._prisma_migrations WHERE finished_at IS NOT NULL`,
    );
    expect(applied).toEqual([{ n: "2" }]);
  });
});
