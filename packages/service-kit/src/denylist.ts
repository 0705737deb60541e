/**
 * `@boxoffice/service-kit/denylist`: the local session denylist every subgraph except accounts
 * keeps, so it can refuse the token of a signed-out session without ever calling accounts.
 *
 * How a revocation travels: accounts' `signOut` commits `session.revoked` to its outbox → its relay
 * sends it to Kafka (`boxoffice.accounts.v1`, keyed by session id) → this consumer (group
 * `<service>.session-denylist`) inserts the session into the service's own `revoked_sessions` table
 * (inbox + `ON CONFLICT DO NOTHING`, in one transaction) → `isRevoked(sessionId)`, which
 * auth-verify's verifier calls on every authenticated request, finds the row.
 *
 * Why a table and not an in-memory set: replicas of one service share the consumer group, so each
 * event reaches ONE replica; the table is what every replica reads. The per-process cache holds
 * positive answers only (a revocation is permanent), so a "not revoked" answer is never stale: the
 * delay between the event's commit and the refusal is the event's transit time, nothing more.
 *
 * The table: `sql/revoked-sessions.sql` (or the Prisma model in `prisma/revoked-sessions.prisma`)
 * in a migration of the service's schema.
 */
import { NonRetryableError, quoteIdentifier, type ConsumerStatus, type SqlExecutor } from "@boxoffice/events";
import { isUuid } from "./ids.ts";
import { localReplicaConsumer, type LocalReplicaOptions } from "./local-replica.ts";

/** Absolute paths of the table definition, for migrations and tests. */
export const REVOKED_SESSIONS_SCHEMA = {
  /** Plain SQL (idempotent `CREATE … IF NOT EXISTS`), run with search_path = the service schema. */
  sql: new URL("../sql/revoked-sessions.sql", import.meta.url),
  /** The same table as a Prisma model, to paste into a subgraph's schema.prisma. */
  prisma: new URL("../prisma/revoked-sessions.prisma", import.meta.url),
} as const;

/** Default bound of the positive-answer cache (entries; one entry is a session id, ~100 bytes). */
export const DEFAULT_DENYLIST_CACHE_ENTRIES = 10_000;

/** The consumer group is `<service>.session-denylist`; `db` reads `revoked_sessions`. */
export interface SessionDenylistOptions<Tx extends SqlExecutor> extends LocalReplicaOptions<Tx> {
  /** Default `revoked_sessions` (resolved through search_path); may be `schema.table`. */
  table?: string;
  /** Bound of the positive-answer cache (default 10 000); 0 turns it off. */
  cacheMaxEntries?: number;
}

/** What a revocation records: the `session.revoked` event's data. */
export interface Revocation {
  sessionId: string;
  userId: string;
  /** ISO 8601 with offset, or a Date. */
  revokedAt: string | Date;
}

export interface SessionDenylist {
  /**
   * auth-verify's `isRevoked` hook: true when the session was revoked. A session id that is not a
   * UUID is treated as revoked (fail closed): accounts only issues UUIDs, and such an id could never
   * be recorded here, so it could never be revoked either.
   *
   * Cost: a cache hit is a Map lookup; otherwise one primary-key lookup on the service's database
   * (sub-millisecond on a local PostgreSQL). "Not revoked" is never cached.
   * @throws the database driver's error when the table cannot be read; auth-verify then fails the
   *   request closed (INTERNAL_SERVER_ERROR), never lets it through.
   */
  isRevoked(sessionId: string): Promise<boolean>;
  /**
   * Records a revocation through `tx` (idempotent: `ON CONFLICT DO NOTHING`). The consumer calls it
   * for each `session.revoked`; exposed for services and tests that learn of a revocation otherwise.
   * @returns true when the row was inserted, false when the session was already denied.
   * @throws NonRetryableError (→ dead-letter topic) when sessionId or userId is not a UUID.
   */
  record(tx: SqlExecutor, revocation: Revocation): Promise<boolean>;
  /** Joins the consumer group and starts consuming `session.revoked` (from the beginning for a new group). */
  start(): Promise<void>;
  /** Drains and leaves the group within `deadlineMs` (default 10 000). */
  stop(deadlineMs?: number): Promise<{ timedOut: boolean }>;
  /** The consumer's status, for `/readyz` (`ready` once it has joined the group). */
  status(): ConsumerStatus;
  /**
   * Deletes revocations older than `before` and returns how many. Safe once `before` is older than
   * now minus the longest session lifetime (accounts' `AUTH_SESSION_TTL_SECONDS`, at most 24 h):
   * the verifier refuses those tokens as expired anyway.
   */
  prune(before: Date): Promise<number>;
}

/**
 * Creates the denylist of one service: its `session.revoked` consumer and the `isRevoked` hook for
 * `createVerifier({ …, isRevoked: denylist.isRevoked })`. Call `start()` before serving requests
 * and `stop()` on shutdown. Never calls the accounts subgraph.
 *
 * @throws EventsConfigError when `table` or `inboxTable` is not a plain SQL identifier.
 */
export function createSessionDenylist<Tx extends SqlExecutor>(
  options: SessionDenylistOptions<Tx>,
): SessionDenylist {
  const table = quoteIdentifier(options.table ?? "revoked_sessions");
  const maxEntries = options.cacheMaxEntries ?? DEFAULT_DENYLIST_CACHE_ENTRIES;
  const select = `SELECT 1 AS revoked FROM ${table} WHERE session_id = $1::uuid`;
  const insert =
    `INSERT INTO ${table} (session_id, user_id, revoked_at) VALUES ($1::uuid, $2::uuid, $3::timestamptz)` +
    ` ON CONFLICT (session_id) DO NOTHING`;
  // Insertion-ordered Map as an LRU: a hit moves the entry to the end, the oldest is evicted first.
  const revoked = new Map<string, true>();
  const remember = (sessionId: string) => {
    if (maxEntries <= 0) return;
    revoked.delete(sessionId);
    revoked.set(sessionId, true);
    if (revoked.size > maxEntries) {
      const oldest = revoked.keys().next();
      if (!oldest.done) revoked.delete(oldest.value);
    }
  };

  const record = async (tx: SqlExecutor, revocation: Revocation): Promise<boolean> => {
    if (!isUuid(revocation.sessionId) || !isUuid(revocation.userId)) {
      throw new NonRetryableError(
        `session.revoked: sessionId and userId must be UUIDs (got ${JSON.stringify(revocation.sessionId)})`,
      );
    }
    const at =
      revocation.revokedAt instanceof Date ? revocation.revokedAt.toISOString() : revocation.revokedAt;
    const inserted = await tx.$executeRawUnsafe(insert, revocation.sessionId, revocation.userId, at);
    return inserted > 0;
  };

  const consumer = localReplicaConsumer<Tx>(options, "session-denylist", {
    "session.revoked": async (event, tx) => {
      await record(tx, event.data);
    },
  });

  return {
    async isRevoked(sessionId) {
      if (revoked.has(sessionId)) {
        remember(sessionId);
        return true;
      }
      if (!isUuid(sessionId)) return true;
      const rows = await options.db.$queryRawUnsafe<unknown[]>(select, sessionId);
      if (rows.length === 0) return false;
      remember(sessionId);
      return true;
    },
    record,
    start: () => consumer.start(),
    stop: (deadlineMs) => consumer.stop(deadlineMs),
    status: () => consumer.status(),
    async prune(before) {
      return options.db.$executeRawUnsafe(
        `DELETE FROM ${table} WHERE revoked_at < $1::timestamptz`,
        before.toISOString(),
      );
    },
  };
}
