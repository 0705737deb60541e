/**
 * Version-aware application of events to a replica (a local copy of another service's aggregate).
 *
 * Events carry the aggregate's full state and its `aggregateVersion`, so a replica row is correct
 * when it holds the highest version seen. "Apply only if newer" makes every delivery order converge:
 * a duplicate (same version) or a stale event (older version, e.g. a dead letter replayed after
 * newer events) is an acknowledged no-op, never an error that would make the message loop.
 */
import { EventsConfigError } from "./errors.ts";
import { quoteIdentifier, type SqlExecutor } from "./sql.ts";

/**
 * Whether an incoming version should replace the stored one. `stored` is undefined/null when the
 * replica has no row yet.
 */
export function isNewer(stored: number | bigint | null | undefined, incoming: number | bigint): boolean {
  return stored === null || stored === undefined || BigInt(incoming) > BigInt(stored);
}

export interface ApplyIfNewerSpec {
  /** Replica table, optionally `schema.table`. */
  table: string;
  /** Primary-key column(s) → value(s), e.g. `{ id: event.aggregateId }`. Must be a unique key. */
  key: Record<string, unknown>;
  /** The event's `aggregateVersion`. */
  version: number;
  /** Version column (default `version`). */
  versionColumn?: string;
  /** The other replicated columns → values (snake_case column names). */
  values: Record<string, unknown>;
}

/**
 * Upserts a replica row only if `version` is greater than the stored one, atomically in one
 * statement (`INSERT … ON CONFLICT (key) DO UPDATE … WHERE stored.version < excluded.version`), so
 * two concurrent deliveries cannot both win.
 *
 * @returns `"applied"` when the row was inserted or updated, `"stale"` when the stored version is
 *   the same or newer (nothing changed).
 * @throws EventsConfigError for a non-identifier table/column name or an empty key; the driver's
 *   error for SQL problems (e.g. a missing unique index on the key columns).
 */
export async function applyIfNewer(tx: SqlExecutor, spec: ApplyIfNewerSpec): Promise<"applied" | "stale"> {
  const keyColumns = Object.keys(spec.key);
  if (keyColumns.length === 0) throw new EventsConfigError("applyIfNewer: key must name at least one column");
  const versionColumn = spec.versionColumn ?? "version";
  const valueColumns = Object.keys(spec.values).filter((c) => c !== versionColumn && !(c in spec.key));
  const table = quoteIdentifier(spec.table);
  const columns = [...keyColumns, versionColumn, ...valueColumns];
  const quoted = columns.map(quoteIdentifier);
  const params = [
    ...keyColumns.map((c) => spec.key[c]),
    spec.version,
    ...valueColumns.map((c) => spec.values[c]),
  ];
  const placeholders = columns.map((_, i) => `$${i + 1}`);
  const v = quoteIdentifier(versionColumn);
  const updates = [versionColumn, ...valueColumns].map(
    (c) => `${quoteIdentifier(c)} = EXCLUDED.${quoteIdentifier(c)}`,
  );
  const sql =
    `INSERT INTO ${table} AS current (${quoted.join(", ")}) VALUES (${placeholders.join(", ")})` +
    ` ON CONFLICT (${keyColumns.map(quoteIdentifier).join(", ")}) DO UPDATE SET ${updates.join(", ")}` +
    ` WHERE current.${v} < EXCLUDED.${v}`;
  const count = await tx.$executeRawUnsafe(sql, ...params);
  return count > 0 ? "applied" : "stale";
}
