import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
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

const SCHEMA = "box_push";
const database = uniqueName("push");
const url = urlFor(database, SCHEMA);
let project: Project;

const MODELS = `model Venue {
  id   Int    @id @default(autoincrement())
  name String
}
`;

describe("prisma db push through boxoffice-prisma", () => {
  beforeAll(async () => {
    databaseUrl();
    project = await createProject("push", MODELS);
  });
  afterAll(async () => {
    await dropDatabases(database);
    await project.remove();
  });

  it("creates the database and the tables in the target schema, without migrations", async () => {
    const result = await prisma(project, ["db", "push"], url);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("Your database is now in sync with your Prisma schema");
    expect(await userTables(database)).toEqual([`${SCHEMA}.Venue`]);
  });

  it("pushes a later change in place", async () => {
    await project.writeSchema(MODELS.replace("name String", 'name String\n  city String @default("Lyon")'));
    const result = await prisma(project, ["db", "push"], url);
    expect(result.code, result.output).toBe(0);
    const columns = await sql<{ column_name: string }>(
      database,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'Venue'",
      [SCHEMA],
    );
    expect(columns.map((c) => c.column_name).sort()).toEqual(["city", "id", "name"]);
  });
});
