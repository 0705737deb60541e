/**
 * The set-up the local-replica tests (session denylist, signing keys) share, written once: a schema
 * of their own with the inbox and the replica's table, topics of their own, and a producer of
 * events as their publisher (accounts) would send them.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  createKafka,
  createPublisher,
  ensureTopics,
  installEventTables,
  schemaConnection,
  topicSpecsFor,
  type EventEnvelope,
  type MessageOutcome,
} from "@boxoffice/events";
import { ownTopics, produceEvents, testRegistry } from "@boxoffice/events/testing";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";

function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: the infra global setup did not run");
  return url;
}

/**
 * Registers the block's `beforeAll` (schema `<name>_<id>` with the inbox and `table.sql`, a pool of 5
 * on it, the topics with 3 partitions) and `afterAll` (close the pool, drop the schema, delete the
 * topics). Hooks registered after this call run after these before the tests and before these after
 * them, so a test's replica starts on a ready schema and stops before it is dropped.
 *
 * @param table the replica's table (`{ sql: file URL of its CREATE TABLE }`, e.g. REVOKED_SESSIONS_SCHEMA).
 * @returns `id`, `registry` (topics `t<id>.…`), `kafka`, `publisher` (producer `accounts-test`),
 *   `outcomes` (for the replicas' `onOutcome`), `produce` (events to their topics, in order, keyed by
 *   aggregate id), and `pool` (inside hooks and tests).
 */
export function useReplicaBed(name: string, table: { sql: URL }) {
  const id = randomBytes(5).toString("hex");
  const schema = `${name}_${id}`;
  const registry = testRegistry(`t${id}`);
  const kafka = createKafka({
    clientId: `${name}-test`,
    brokers: (process.env.KAFKA_BROKERS ?? "").split(","),
  });
  const outcomes: MessageOutcome[] = [];
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: databaseUrl() });
    await admin.connect();
    try {
      await installEventTables(admin, schema, ["inbox"]);
      await admin.query(`SET search_path TO ${schema}`);
      await admin.query(await readFile(table.sql, "utf8"));
    } finally {
      await admin.end();
    }
    pool = new pg.Pool({ ...schemaConnection(databaseUrl(), schema), max: 5 });
    await ensureTopics(kafka, topicSpecsFor(registry, { partitions: 3, replicationFactor: 1 }));
  });
  afterAll(async () => {
    await pool?.end();
    const admin = new pg.Client({ connectionString: databaseUrl() });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.end());
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.deleteTopics({ topics: ownTopics(registry, `t${id}`) }).catch(() => undefined);
    await kafkaAdmin.disconnect();
  });
  return {
    id,
    registry,
    kafka,
    publisher: createPublisher({ registry, producer: "accounts-test" }),
    outcomes,
    produce: async (...events: EventEnvelope[]) => {
      await produceEvents(kafka, registry, events);
    },
    get pool(): pg.Pool {
      if (!pool) throw new Error("the replica bed is not set up yet (read pool inside a hook or test)");
      return pool;
    },
  };
}
