import path from "node:path";
import { pathToFileURL } from "node:url";
import { PrismaPg } from "@prisma/adapter-pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDatabase,
  createProject,
  databaseUrl,
  dropDatabases,
  prisma,
  sql,
  uniqueName,
  urlFor,
  userTables,
  type Project,
} from "./support.ts";

// A service's production path: committed migrations, `migrate status` / `deploy` / `diff`,
// `generate`, and the generated client talking to the service's own schema.
const SCHEMA = "box_orders";
const database = uniqueName("deploy");
const shadow = uniqueName("shadow");
const url = urlFor(database, SCHEMA);
let project: Project;

const MODELS = `model Order {
  id        Int      @id @default(autoincrement())
  reference String   @unique
  note      String?
}
`;
const INIT = `-- CreateTable
CREATE TABLE "Order" (
    "id" SERIAL NOT NULL,
    "reference" TEXT NOT NULL,
    "note" TEXT,
    CONSTRAINT "Order_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Order_reference_key" ON "Order"("reference");

CREATE FUNCTION order_reference_prefix() RETURNS text LANGUAGE sql AS $$ SELECT 'BOX;'; $$;
`;

interface OrderRow {
  id: number;
  reference: string;
  note: string | null;
}
interface GeneratedClient {
  order: {
    create(args: { data: { reference: string; note?: string } }): Promise<OrderRow>;
    findUnique(args: { where: { reference: string } }): Promise<OrderRow | null>;
  };
  $queryRawUnsafe<T>(query: string): Promise<T>;
  $disconnect(): Promise<void>;
}
interface GeneratedModule {
  PrismaClient: new (options: { adapter: PrismaPg }) => GeneratedClient;
}

describe("prisma migrate deploy / status / diff / generate through boxoffice-prisma", () => {
  beforeAll(async () => {
    databaseUrl();
    project = await createProject("deploy", MODELS);
    await project.writeMigration("20240101000000_init", INIT);
  });
  afterAll(async () => {
    await dropDatabases(database, shadow);
    await project.remove();
  });

  it("migrate status reports the pending migration with a non-zero exit", async () => {
    await createDatabase(database);
    const result = await prisma(project, ["migrate", "status"], url);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("20240101000000_init");
    expect(result.output).toMatch(/not yet been applied/);
  });

  it("migrate deploy applies it into the target schema, with _prisma_migrations there and nothing in public", async () => {
    const result = await prisma(project, ["migrate", "deploy"], url);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("All migrations have been successfully applied");
    expect(await userTables(database)).toEqual([`${SCHEMA}.Order`, `${SCHEMA}._prisma_migrations`]);
    const [row] = await sql<{ prefix: string }>(
      database,
      `SELECT "${SCHEMA}".order_reference_prefix() AS prefix`,
    );
    expect(row?.prefix).toBe("BOX;");
  });

  it("migrate status is clean afterwards", async () => {
    const result = await prisma(project, ["migrate", "status"], url);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("Database schema is up to date!");
  });

  it("migrate diff --from-migrations --to-schema --exit-code: 0 when in sync, 2 and the SQL when not", async () => {
    const args = [
      "migrate",
      "diff",
      "--from-migrations",
      "prisma/migrations",
      "--to-schema",
      "prisma/schema.prisma",
    ];
    const same = await prisma(project, [...args, "--exit-code"], url);
    expect(same.code, same.output).toBe(0);

    await project.writeSchema(
      MODELS.replace("note      String?", "note      String?\n  seats     Int      @default(1)"),
    );
    const changed = await prisma(project, [...args, "--script", "--exit-code"], url);
    expect(changed.code, changed.output).toBe(2);
    expect(changed.stdout).toMatch(/ALTER TABLE "Order" ADD COLUMN\s+"seats" INTEGER NOT NULL DEFAULT 1/);
    await project.writeSchema(MODELS);
  });

  it("an explicit shadowDatabaseUrl is wiped before the migrations are replayed into it", async () => {
    await createDatabase(shadow);
    await sql(
      shadow,
      `CREATE SCHEMA "${SCHEMA}"; CREATE TABLE "${SCHEMA}"."Order" (leftover int); CREATE TABLE public.junk (x int)`,
    );
    const result = await prisma(
      project,
      [
        "migrate",
        "diff",
        "--from-migrations",
        "prisma/migrations",
        "--to-schema",
        "prisma/schema.prisma",
        "--exit-code",
      ],
      url,
      { SHADOW_DATABASE_URL: urlFor(shadow, SCHEMA) },
    );
    // Unwiped, replaying CREATE TABLE "Order" fails with "relation already exists".
    expect(result.code, result.output).toBe(0);
    expect(await userTables(shadow)).not.toContain("public.junk");
  });

  it("prisma generate + the generated client read and write through @prisma/adapter-pg in the service schema", async () => {
    const generated = await prisma(project, ["generate"], url);
    expect(generated.code, generated.output).toBe(0);
    const clientFile = path.join(project.dir, "generated", "prisma", "client.ts");
    const mod = (await import(pathToFileURL(clientFile).href)) as GeneratedModule;
    const adapter = new PrismaPg(
      { connectionString: urlFor(database), options: `-c search_path=${SCHEMA}` },
      { schema: SCHEMA },
    );
    const client = new mod.PrismaClient({ adapter });
    try {
      const created = await client.order.create({ data: { reference: "BOX-1", note: "aisle; seat 3" } });
      expect(created).toMatchObject({ reference: "BOX-1", note: "aisle; seat 3" });
      expect(await client.order.findUnique({ where: { reference: "BOX-1" } })).toEqual(created);
      // Raw SQL with unqualified names resolves through search_path.
      expect(await client.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM "Order"')).toEqual([
        { n: 1n },
      ]);
    } finally {
      await client.$disconnect();
    }
    const rows = await sql<{ reference: string }>(database, `SELECT reference FROM "${SCHEMA}"."Order"`);
    expect(rows).toEqual([{ reference: "BOX-1" }]);
  });

  it("a failing migration exits non-zero and leaves a failure record (pitfall 7)", async () => {
    await project.writeMigration(
      "20240102000000_broken",
      `ALTER TABLE "Order" ADD COLUMN "ok" INTEGER;\nALTER TABLE "NoSuchTable" ADD COLUMN "x" INTEGER;\n`,
    );
    const result = await prisma(project, ["migrate", "deploy"], url);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("20240102000000_broken");
    expect(result.output).toMatch(/NoSuchTable/);
    const records = await sql<{ migration_name: string; finished_at: Date | null; logs: string | null }>(
      database,
      `SELECT migration_name, finished_at, logs FROM "${SCHEMA}"._prisma_migrations ORDER BY migration_name`,
    );
    expect(records.map((r) => r.migration_name)).toEqual(["20240101000000_init", "20240102000000_broken"]);
    expect(records[1]?.finished_at).toBeNull();
    expect(records[1]?.logs).toMatch(/NoSuchTable/);
    // The script ran as one implicit transaction: its first statement did not stick either.
    const columns = await sql<{ column_name: string }>(
      database,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'Order'",
      [SCHEMA],
    );
    expect(columns.map((c) => c.column_name)).not.toContain("ok");

    const status = await prisma(project, ["migrate", "status"], url);
    expect(status.code).not.toBe(0);
    expect(status.output).toMatch(/failed/i);
  });
});
