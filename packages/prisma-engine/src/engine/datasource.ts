import type pg from "pg";

/**
 * The `--datasource` JSON the Prisma CLI passes to the engine: the `datasource` block of
 * `prisma.config.ts` (`{ url, shadowDatabaseUrl? }`). In `cli …` sub-commands only `url`.
 */
export interface DatasourceConfig {
  url: string;
  shadowDatabaseUrl?: string | undefined;
}

/**
 * Parses the `--datasource` argument.
 *
 * @param json the raw argument, e.g. `{"url":"postgresql://…?schema=tickets"}`.
 * @throws Error when it is not JSON, has no string `url`, or the URL is not PostgreSQL
 *   (this engine drives `@prisma/adapter-pg` only).
 */
export function parseDatasource(json: string): DatasourceConfig {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error("--datasource is not valid JSON");
  }
  if (typeof value !== "object" || value === null) throw new Error("--datasource must be a JSON object");
  const url: unknown = Reflect.get(value, "url");
  const shadow: unknown = Reflect.get(value, "shadowDatabaseUrl");
  if (typeof url !== "string" || url === "") {
    throw new Error("--datasource has no `url`: set `datasource.url` in prisma.config.ts");
  }
  if (shadow !== undefined && shadow !== null && typeof shadow !== "string") {
    throw new Error("--datasource `shadowDatabaseUrl` must be a string");
  }
  assertPostgresUrl(url);
  if (typeof shadow === "string" && shadow !== "") {
    assertPostgresUrl(shadow);
    return { url, shadowDatabaseUrl: shadow };
  }
  return { url };
}

function assertPostgresUrl(url: string): void {
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new Error(
      `Only postgresql:// URLs are supported by @boxoffice/prisma-engine (got "${url.split(":")[0] ?? ""}:…")`,
    );
  }
}

/** Where one PostgreSQL connection goes, as `pg` and `@prisma/adapter-pg` need it. */
export interface PgTarget {
  /** The connection string without Prisma-only parameters (`schema`). */
  connectionString: string;
  /** Database name from the URL path (`postgres` when absent, as libpq does for user `postgres`). */
  database: string;
  /** Target PostgreSQL schema from `?schema=`; `undefined` means the server default (`public`). */
  schema: string | undefined;
  /** `pg` pool settings: the connection string plus `-c search_path=<schema>` when a schema is set. */
  poolConfig: pg.PoolConfig;
}

/**
 * Turns a Prisma datasource URL into a `pg` connection.
 *
 * Prisma's URL convention puts the target schema in `?schema=`; `pg` and adapter-pg ignore
 * it, so it is removed from the URL and turned into `search_path` (pitfall 5: migrations use
 * unqualified names) and into adapter-pg's `{ schema }` option by the caller. An `options`
 * URL parameter is kept and the `-c search_path` is appended to it.
 *
 * @param url a `postgresql://` URL.
 * @param fallbackSchema schema to use when the URL has no `?schema=` (used for the shadow DB).
 * @throws Error for an unparsable URL or a schema name containing whitespace or `\`
 *   (they cannot be passed through the libpq `options` startup parameter unescaped).
 */
export function pgTarget(url: string, fallbackSchema?: string): PgTarget {
  const parsed = parseUrl(url);
  const schema = parsed.searchParams.get("schema") ?? fallbackSchema ?? undefined;
  const userOptions = parsed.searchParams.get("options");
  parsed.searchParams.delete("schema");
  parsed.searchParams.delete("options");
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "postgres";
  const options: string[] = [];
  if (userOptions) options.push(userOptions);
  if (schema !== undefined && schema !== "") {
    if (/[\s\\]/.test(schema)) throw new Error(`Unsupported schema name ${JSON.stringify(schema)}`);
    options.push(`-c search_path=${quoteIdentifier(schema)}`);
  }
  const connectionString = parsed.toString();
  const poolConfig: pg.PoolConfig = { connectionString };
  if (options.length > 0) poolConfig.options = options.join(" ");
  return { connectionString, database, schema: schema === "" ? undefined : schema, poolConfig };
}

/**
 * Returns `url` with its database (path) replaced by `database`, all parameters kept.
 * Used for the temporary shadow database (pitfall 2: adapter-pg's own shadow connection
 * sets `database` next to `connectionString`, which `pg` ignores).
 */
export function withDatabase(url: string, database: string): string {
  const parsed = parseUrl(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** `host:port` of a URL, for error messages that must not leak credentials. */
export function describeServer(url: string): string {
  const parsed = parseUrl(url);
  return `${parsed.hostname || parsed.searchParams.get("host") || "localhost"}:${parsed.port || "5432"}`;
}

/** Quotes a PostgreSQL identifier when it is not a plain lower-case name. */
export function quoteIdentifier(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new Error("The datasource URL could not be parsed as a URL");
  }
}
