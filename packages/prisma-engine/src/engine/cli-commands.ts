import { ident, withClient } from "./adapter.ts";
import { pgTarget, withDatabase, type DatasourceConfig } from "./datasource.ts";
import { toKnownError, type KnownError } from "./pg-errors.ts";

/** The `cli` sub-commands the Prisma CLI runs (`<engine> --datasource … cli <name>`). */
export type CliCommand = "can-connect-to-database" | "create-database";

/** Thrown by a sub-command; `main` prints it as a `schema_engine::logger` ERROR line. */
export class CliCommandError extends Error {
  readonly errorCode: string | undefined;
  constructor(known: KnownError) {
    super(known.message);
    this.name = "CliCommandError";
    this.errorCode = known.errorCode;
  }
}

/**
 * Runs a `cli` sub-command against `datasource.url`.
 *
 * - `can-connect-to-database`: connects and runs `SELECT 1`.
 * - `create-database`: connects to the `postgres` database of the same server (falling back
 *   to `template1`, as the native engine does) and runs `CREATE DATABASE`.
 *
 * @returns a line for stdout on success.
 * @throws CliCommandError carrying the Prisma code (P1003 for a missing database makes the
 *   Prisma CLI call `create-database`; P1001 unreachable; P1000 credentials; P1009 exists).
 */
export async function runCliCommand(command: string, datasource: DatasourceConfig): Promise<string> {
  const target = pgTarget(datasource.url);
  const fail = (error: unknown): never => {
    throw new CliCommandError(toKnownError(error, datasource.url, target.database));
  };
  switch (command) {
    case "can-connect-to-database":
      await withClient({ connectionString: target.connectionString }, (c) => c.query("SELECT 1")).catch(fail);
      return "Connection successful";
    case "create-database": {
      let lastError: unknown;
      for (const maintenance of ["postgres", "template1"]) {
        try {
          const admin = pgTarget(withDatabase(datasource.url, maintenance));
          await withClient({ connectionString: admin.connectionString }, (c) =>
            c.query(`CREATE DATABASE ${ident(target.database)}`),
          );
          return `Database '${target.database}' was successfully created.`;
        } catch (error) {
          lastError = error;
          const code: unknown =
            typeof error === "object" && error !== null ? Reflect.get(error, "code") : undefined;
          if (code !== "3D000") break;
        }
      }
      return fail(lastError);
    }
    default:
      throw new CliCommandError({ errorCode: undefined, message: `Unknown cli sub-command: ${command}` });
  }
}
