/**
 * `@boxoffice/service-kit/signing-keys`: the replica of the accounts subgraph's public signing keys
 * that every verifying subgraph keeps, so it verifies sessions for as long as accounts is down —
 * including after its own restart — without fetching the JWKS.
 *
 * How a key travels: accounts' start commits `signing-key.published` (a new current or previous key)
 * or `signing-key.retired` (a key dropped from its configuration) to its outbox → its relay sends it
 * to Kafka (`boxoffice.signing-keys.v1`, keyed by kid) → this consumer (group
 * `<service>.signing-keys`) upserts the key into the service's own `signing_keys` table (inbox +
 * `applyIfNewer`, one transaction: published is version 1, retired version 2, so a late or
 * duplicated `published` never revives a retired key) → the in-memory key set the verifier reads.
 *
 * Why a table and a poll: replicas of one service share the consumer group, so each event reaches ONE
 * replica; the table is what every replica reads. The replica that applied an event reloads at once;
 * the others within `refreshIntervalMs` (default 500 ms), which keeps a retirement's reach under a
 * second. The table is tiny (a few keys per rotation), so a reload is one small query.
 */
import { createKeyStore, type KeyStore } from "@boxoffice/auth-verify";
import {
  applyIfNewer,
  errorMessage,
  silentLogger,
  type BoxofficeEventDefinition,
  type ConsumerStatus,
  type EventOfType,
  type SqlExecutor,
  quoteIdentifier,
} from "@boxoffice/events";
import { signingKeysPublished, signingKeysRefreshed } from "@boxoffice/telemetry";
import { localReplicaConsumer, type LocalReplicaOptions } from "./local-replica.ts";
import { createPollingLoop } from "./polling-loop.ts";

/** Absolute paths of the table definition, for migrations and tests. */
export const SIGNING_KEYS_SCHEMA = {
  /** Plain SQL (idempotent `CREATE … IF NOT EXISTS`), run with search_path = the service schema. */
  sql: new URL("../sql/signing-keys.sql", import.meta.url),
  /** The same table as a Prisma model, to paste into a subgraph's schema.prisma. */
  prisma: new URL("../prisma/signing-keys.prisma", import.meta.url),
} as const;

/** The data of a `signing-key.published` or `signing-key.retired` event. */
export type SigningKeyState = EventOfType<
  BoxofficeEventDefinition,
  "signing-key.published" | "signing-key.retired"
>["data"];

/** The consumer group is `<service>.signing-keys`; `db` reads `signing_keys`. */
export interface SigningKeyReplicaOptions<Tx extends SqlExecutor> extends LocalReplicaOptions<Tx> {
  /** Default `signing_keys` (resolved through search_path); may be `schema.table`. */
  table?: string;
  /** How often every replica re-reads the table, ms (default 500: a retirement reaches all within ~1 s). */
  refreshIntervalMs?: number;
}

export interface SigningKeyReplica {
  /** The key set to verify with: `createVerifier({ keys: { keyStore, fallback } })`. */
  keyStore: KeyStore;
  /**
   * Upserts a key through `tx`, only if `version` is newer than the stored one.
   * @returns `applied`, or `stale` for a duplicate or an older version (nothing changed).
   */
  record(tx: SqlExecutor, key: SigningKeyState, version: number): Promise<"applied" | "stale">;
  /**
   * Reads the table into `keyStore`.
   * @throws the driver's error when the table cannot be read; AuthConfigError for a key the store
   *   refuses (the previous set stays in force).
   */
  refresh(): Promise<void>;
  /**
   * Loads the table (so a restarted service verifies at once, accounts up or not), starts the
   * periodic reload and the consumer (from the beginning for a new group; it joins its group in the
   * background, see `EventConsumer.start`).
   */
  start(): Promise<void>;
  /** Stops the reload, drains and leaves the group within `deadlineMs` (default 10 000). */
  stop(deadlineMs?: number): Promise<{ timedOut: boolean }>;
  /** The consumer's status, for `/readyz`. */
  status(): ConsumerStatus;
}

interface KeyRow {
  kid: string;
  status: string;
  public_jwk: unknown;
}

/**
 * Creates the signing-key replica of one service. Never calls the accounts subgraph.
 *
 * @throws EventsConfigError when `table` or `inboxTable` is not a plain SQL identifier.
 */
export function createSigningKeyReplica<Tx extends SqlExecutor>(
  options: SigningKeyReplicaOptions<Tx>,
): SigningKeyReplica {
  const table = options.table ?? "signing_keys";
  const select = `SELECT kid, status, public_jwk FROM ${quoteIdentifier(table)}`;
  const logger = options.logger ?? silentLogger;
  const keyStore = createKeyStore();

  const refresh = async () => {
    const rows = await options.db.$queryRawUnsafe<KeyRow[]>(select);
    const jwkOf = (row: KeyRow) =>
      (typeof row.public_jwk === "string" ? JSON.parse(row.public_jwk) : row.public_jwk) as {
        kid?: string;
      };
    const changed = keyStore.replace({
      published: rows.filter((row) => row.status === "PUBLISHED").map(jwkOf),
      retired: rows.filter((row) => row.status !== "PUBLISHED").map((row) => row.kid),
    });
    signingKeysRefreshed.set(Date.now() / 1000);
    signingKeysPublished.set(keyStore.size());
    if (changed) {
      logger.info("signing keys reloaded", {
        published: keyStore.size(),
        retired: rows.length - keyStore.size(),
      });
    }
  };

  const record = (tx: SqlExecutor, key: SigningKeyState, version: number) =>
    applyIfNewer(tx, {
      table,
      key: { kid: key.kid },
      version,
      values: {
        status: key.status,
        public_jwk: JSON.stringify(key.publicJwk),
        published_at: key.publishedAt,
        retired_at: key.retiredAt ?? null,
      },
    });

  const consumer = localReplicaConsumer<Tx>(
    options,
    "signing-keys",
    {
      "signing-key.published": async (event, tx) => {
        await record(tx, event.data, event.aggregateVersion);
      },
      "signing-key.retired": async (event, tx) => {
        await record(tx, event.data, event.aggregateVersion);
      },
    },
    (outcome) => {
      // The replica that applied the change reloads now, not at the next tick.
      if (outcome.kind === "applied") {
        refresh().catch((error: unknown) =>
          logger.error("signing keys reload failed", { error: errorMessage(error) }),
        );
      }
    },
  );

  const loop = createPollingLoop({
    name: "signing-keys reload",
    pollIntervalMs: options.refreshIntervalMs ?? 500,
    poll: async () => {
      await refresh();
      return false;
    },
    logger,
  });

  return {
    keyStore,
    record,
    refresh,
    async start() {
      await refresh();
      await consumer.start();
      loop.start();
    },
    async stop(deadlineMs) {
      await loop.stop();
      return consumer.stop(deadlineMs);
    },
    status: () => consumer.status(),
  };
}
