import { randomUUID } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQuery,
  SqlResultSet,
  Transaction,
} from "@prisma/driver-adapter-utils";
import pg from "pg";
import { pgTarget, withDatabase, type DatasourceConfig, type PgTarget } from "./datasource.ts";

const { builtins } = pg.types;
type TypeFormat = Parameters<typeof pg.types.getTypeParser>[1];

/**
 * OIDs that `@prisma/adapter-pg@7.10.0`'s `fieldToColumnType` maps (its `src/conversion.ts`).
 * Any other built-in OID (below 16384, PostgreSQL's FirstNormalObjectId) makes it throw
 * `UnsupportedNativeDataType`; user-defined OIDs are already read as text.
 */
const MAPPED_OIDS: ReadonlySet<number> = new Set([
  builtins.INT2,
  builtins.INT4,
  builtins.INT8,
  builtins.FLOAT4,
  builtins.FLOAT8,
  builtins.BOOL,
  builtins.DATE,
  builtins.TIME,
  builtins.TIMETZ,
  builtins.TIMESTAMP,
  builtins.TIMESTAMPTZ,
  builtins.NUMERIC,
  builtins.MONEY,
  builtins.JSON,
  builtins.JSONB,
  builtins.UUID,
  builtins.OID,
  builtins.BPCHAR,
  builtins.TEXT,
  builtins.VARCHAR,
  builtins.BIT,
  builtins.VARBIT,
  builtins.INET,
  builtins.CIDR,
  builtins.XML,
  builtins.BYTEA,
  19 /* name */,
  // arrays
  1561,
  1000,
  1001,
  1014,
  1002,
  651,
  1182,
  1021,
  1022,
  1041,
  1005,
  1007,
  1016,
  3807,
  199,
  791,
  1231,
  1028,
  1009,
  1115,
  1185,
  1183,
  2951,
  1563,
  1015,
  143,
]);
const FIRST_NORMAL_OBJECT_ID = 16384;

/**
 * True for a built-in PostgreSQL type adapter-pg 7.10 cannot describe, e.g. `"char"` (OID 18)
 * used by `pg_class.relkind` and friends, which the engine reads while describing a schema.
 */
export function isUnmappedBuiltinOid(oid: number): boolean {
  return oid < FIRST_NORMAL_OBJECT_ID && !MAPPED_OIDS.has(oid);
}

interface FieldLike {
  dataTypeID: number;
}
interface TypesLike {
  getTypeParser: (oid: number, format?: TypeFormat) => unknown;
}

const rawText = (value: string): string => value;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof Reflect.get(value, "then") === "function";
}

/** Rewrites `fields[].dataTypeID` of unmapped built-in types to `text`, in place. */
function describeUnmappedAsText(value: unknown): unknown {
  for (const res of Array.isArray(value) ? value : [value]) {
    const fields: unknown = typeof res === "object" && res !== null ? Reflect.get(res, "fields") : undefined;
    if (!Array.isArray(fields)) continue;
    for (const field of fields as FieldLike[]) {
      if (isUnmappedBuiltinOid(field.dataTypeID)) field.dataTypeID = builtins.TEXT;
    }
  }
  return value;
}

/**
 * A `pg.Client` whose results report unmapped built-in column types as `text` (and keep
 * their raw text value), so adapter-pg can describe them instead of throwing
 * `Column type 'char' could not be deserialized` (pitfall 1). Installed through the pool's
 * `Client` option, so it covers pooled queries and transactions alike.
 */
export class TextFallbackClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const original = this.query.bind(this) as (...args: unknown[]) => unknown;
    const patched = (...args: unknown[]): unknown => {
      const [first] = args;
      if (typeof first === "object" && first !== null && typeof Reflect.get(first, "submit") !== "function") {
        const types: unknown = Reflect.get(first, "types");
        const inner = (types as TypesLike | undefined)?.getTypeParser ?? pg.types.getTypeParser;
        const getTypeParser = (oid: number, format?: TypeFormat): unknown =>
          isUnmappedBuiltinOid(oid) && format !== "binary" ? rawText : inner(oid, format);
        args[0] = { ...first, types: { getTypeParser } };
      }
      const last = args.length > 0 ? args[args.length - 1] : undefined;
      if (typeof last === "function") {
        // pg-pool's `pool.query` calls `client.query(config, values, callback)`.
        const callback = last as (error: unknown, result: unknown) => void;
        args[args.length - 1] = (error: unknown, result: unknown): void =>
          callback(error, describeUnmappedAsText(result));
        return original(...args);
      }
      const result = original(...args);
      return isPromiseLike(result) ? Promise.resolve(result).then(describeUnmappedAsText) : result;
    };
    Object.defineProperty(this, "query", { value: patched, writable: true, configurable: true });
  }
}

/**
 * Wraps an adapter so `executeScript` sends the whole script as ONE simple-protocol query.
 * adapter-pg 7.10 splits scripts on `;`, which breaks `$$` function bodies and string
 * literals containing `;` (pitfall 4). A query without parameters goes through `pg`'s simple
 * query protocol, which accepts many statements (run in one implicit transaction, as the
 * native engine does). Errors keep adapter-pg's mapping because `executeRaw` is reused.
 */
export function withWholeScripts(inner: SqlDriverAdapter, onDispose?: () => Promise<void>): SqlDriverAdapter {
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    queryRaw: (query: SqlQuery): Promise<SqlResultSet> => inner.queryRaw(query),
    executeRaw: (query: SqlQuery): Promise<number> => inner.executeRaw(query),
    executeScript: async (script: string): Promise<void> => {
      await inner.executeRaw({ sql: script, args: [], argTypes: [] });
    },
    startTransaction: (isolationLevel): Promise<Transaction> => inner.startTransaction(isolationLevel),
    getConnectionInfo: () => inner.getConnectionInfo?.() ?? { supportsRelationJoins: true },
    dispose: async (): Promise<void> => {
      try {
        await inner.dispose();
      } finally {
        await onDispose?.();
      }
    },
  };
}

/** Runs `fn` with a single short-lived `pg` client (for DDL the adapter cannot run). */
export async function withClient<T>(
  config: pg.ClientConfig,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new TextFallbackClient(config);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Always-quoted PostgreSQL identifier for DDL. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Drops every non-system schema of the connected database and recreates an empty `public`.
 * The engine treats an explicit `shadowDatabaseUrl` as empty scratch space (pitfall 3);
 * the native engine resets it the same way before replaying migrations.
 */
export async function wipeDatabase(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace
     WHERE nspname NOT IN ('information_schema') AND nspname NOT LIKE 'pg\\_%'`,
  );
  for (const { nspname } of rows) await client.query(`DROP SCHEMA ${ident(nspname)} CASCADE`);
  await client.query("CREATE SCHEMA IF NOT EXISTS public");
}

function connectAdapter(target: PgTarget, onDispose?: () => Promise<void>): Promise<SqlDriverAdapter> {
  const factory = new PrismaPg(
    { ...target.poolConfig, Client: TextFallbackClient },
    target.schema === undefined ? undefined : { schema: target.schema },
  );
  return factory.connect().then(
    (adapter) => withWholeScripts(adapter, onDispose),
    async (error: unknown) => {
      await onDispose?.();
      throw error;
    },
  );
}

/**
 * The driver adapter factory handed to `SchemaEngine.new`: adapter-pg with the fixes for
 * pitfalls 1–5 (see the package README). `connect()` targets `datasource.url`;
 * `connectToShadowDb()` targets `shadowDatabaseUrl` after wiping it, or else a fresh
 * `prisma_migrate_shadow_db_<uuid>` database that is dropped on `dispose()`.
 */
export class BoxofficePgAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = "postgres";
  readonly adapterName = "@prisma/adapter-pg";
  readonly #datasource: DatasourceConfig | undefined;
  readonly #trace: (event: string) => void;

  /**
   * @param datasource the `--datasource` argument; without it every connection attempt throws.
   * @param trace receives one line per shadow-database action (for the debug log).
   */
  constructor(datasource: DatasourceConfig | undefined, trace: (event: string) => void = () => undefined) {
    this.#datasource = datasource;
    this.#trace = trace;
  }

  /**
   * The `--datasource` this factory was built from.
   * @throws Error when the CLI passed none (no `datasource.url` in prisma.config.ts).
   */
  get datasource(): DatasourceConfig {
    if (this.#datasource === undefined) {
      throw new Error("No datasource URL: set `datasource.url` in prisma.config.ts for this command.");
    }
    return this.#datasource;
  }

  /** The main database target (URL without `schema`, search_path, schema). */
  get main(): PgTarget {
    return pgTarget(this.datasource.url);
  }

  connect(): Promise<SqlDriverAdapter> {
    return connectAdapter(this.main);
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const main = this.main;
    const explicit = this.datasource.shadowDatabaseUrl;
    if (explicit !== undefined) {
      const target = pgTarget(explicit, main.schema);
      this.#trace(`shadow-wipe database=${target.database}`);
      await withClient({ connectionString: target.connectionString }, wipeDatabase);
      return connectAdapter(target);
    }
    const database = `prisma_migrate_shadow_db_${randomUUID()}`;
    const admin = { connectionString: main.connectionString };
    this.#trace(`shadow-create database=${database}`);
    await withClient(admin, (c) => c.query(`CREATE DATABASE ${ident(database)}`));
    const target = pgTarget(withDatabase(this.datasource.url, database));
    return connectAdapter(target, async () => {
      this.#trace(`shadow-drop database=${database}`);
      await withClient(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`));
    });
  }
}
