/**
 * The minimal SQL surface this package needs from a transaction, and helpers around it.
 *
 * `SqlExecutor` is structural: a Prisma interactive-transaction client (`tx` inside
 * `prisma.$transaction(async (tx) => …)`) satisfies it, and so does `pgExecutor(client)`. That lets
 * `publish` and the consumer's inbox join the service's own transaction without this package
 * depending on any service's generated Prisma client.
 */
import { readFile } from "node:fs/promises";
import pg from "pg";
import { EventsConfigError } from "./errors.ts";

/**
 * Raw SQL with PostgreSQL positional parameters (`$1`, `$2`…), as Prisma's `$executeRawUnsafe` /
 * `$queryRawUnsafe` take it. `$executeRawUnsafe` resolves to the affected row count.
 */
export interface SqlExecutor {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
}

/** A `SqlExecutor` over a `pg` client or pool (a pool runs each statement on any connection). */
export function pgExecutor(client: pg.ClientBase | pg.Pool): SqlExecutor {
  return {
    async $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> {
      const result = await client.query(query, values);
      return result.rowCount ?? 0;
    },
    async $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> {
      const result = await client.query(query, values);
      return result.rows as T;
    },
  };
}

/** A `SqlExecutor` bound to one pooled connection inside BEGIN … COMMIT. */
export interface PgTransaction extends SqlExecutor {
  readonly client: pg.PoolClient;
}

/**
 * Runs `fn` in a transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it
 * throws (the error is re-thrown). The pg counterpart of `prisma.$transaction(fn)`.
 */
export async function pgTransaction<T>(pool: pg.Pool, fn: (tx: PgTransaction) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("BEGIN");
    const result = await fn({ ...pgExecutor(client), client });
    await client.query("COMMIT");
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch {
      broken = true;
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Quotes a PostgreSQL identifier (`"name"`), or a dotted `schema.table` part by part.
 *
 * @throws EventsConfigError unless every part is a plain identifier (letters, digits, `_`, ≤ 63
 *   bytes). Identifiers come from configuration, never from events, but are checked anyway.
 */
export function quoteIdentifier(name: string): string {
  const parts = name.split(".");
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new EventsConfigError(`"${name}" is not a plain SQL identifier`);
  }
  return parts.map((p) => `"${p}"`).join(".");
}

/** `"schema"."table"` when a schema is given, else `"table"` (resolved through search_path). */
export function tableName(table: string, schema?: string): string {
  return schema ? `${quoteIdentifier(schema)}.${quoteIdentifier(table)}` : quoteIdentifier(table);
}

/** Absolute paths of the SQL files every service puts in a migration. */
export const EVENT_TABLES_SQL = {
  outbox: new URL("../sql/outbox.sql", import.meta.url),
  inbox: new URL("../sql/inbox.sql", import.meta.url),
} as const;

/**
 * Creates (idempotently) the outbox and inbox tables in `schema`, creating the schema if needed, by
 * running this package's SQL files with `search_path` set to it — the same SQL a service's migration
 * contains. For tests, tools and services without Prisma Migrate.
 */
export async function installEventTables(
  client: pg.ClientBase | pg.Pool,
  schema: string,
  tables: Array<"outbox" | "inbox"> = ["outbox", "inbox"],
): Promise<void> {
  const connection = client instanceof pg.Pool ? await client.connect() : client;
  try {
    await connection.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
    await connection.query("BEGIN");
    await connection.query(`SELECT set_config('search_path', $1, true)`, [quoteIdentifier(schema)]);
    for (const table of tables) {
      // One simple-protocol query per file: PL/pgSQL bodies contain `;`, so no naive splitting.
      await connection.query(await readFile(EVENT_TABLES_SQL[table], "utf8"));
    }
    await connection.query("COMMIT");
  } catch (error) {
    await connection.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    if (connection !== client) (connection as pg.PoolClient).release();
  }
}

/**
 * `pg` connection settings for a service schema: unqualified names in raw SQL resolve to it.
 * (PostgreSQL's `options=-c search_path=…`, as the Prisma adapter setup uses.)
 */
export function schemaConnection(connectionString: string, schema: string): pg.PoolConfig {
  return { connectionString, options: `-c search_path=${quoteIdentifier(schema)}` };
}

/** `pgTransaction` bound to a pool, in the shape the consumer's `transaction` option takes. */
export function pgTransactions(pool: pg.Pool): <T>(fn: (tx: PgTransaction) => Promise<T>) => Promise<T> {
  return (fn) => pgTransaction(pool, fn);
}

/** Options of Prisma's interactive transactions (ms). */
export interface PrismaTransactionOptions {
  maxWait?: number;
  timeout?: number;
}

/** The interactive-transaction client type of a Prisma client (`Prisma.TransactionClient`). */
export type TransactionClientOf<C> = C extends {
  $transaction(fn: (tx: infer Tx) => Promise<unknown>, options?: never): unknown;
}
  ? Tx
  : never;

type InteractiveTransactions<Tx> = {
  $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: PrismaTransactionOptions): Promise<R>;
};

/**
 * The consumer's `transaction` option for a Prisma client: runs each message in
 * `prisma.$transaction(fn, options)` and types handlers' `tx` as that client's TransactionClient.
 * Prisma's default interactive-transaction timeout is 5 s; raise `timeout` for slow handlers.
 */
export function prismaTransactions<C extends object>(
  client: C,
  options?: PrismaTransactionOptions,
): <T>(fn: (tx: TransactionClientOf<C>) => Promise<T>) => Promise<T> {
  const transactions = client as unknown as InteractiveTransactions<TransactionClientOf<C>>;
  return (fn) => transactions.$transaction(fn, options);
}
