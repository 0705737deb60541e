import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRelay, ensureTopics, pgTransaction } from "../src/index.ts";
import {
  changeTicket,
  count,
  createTopics,
  databaseUrl,
  deleteTopics,
  testKafka,
  testRegistry,
  testSchema,
  ticketPublisher,
  uid,
  waitFor,
  type TestSchema,
} from "./helpers.ts";

describe("relay and topic admin", () => {
  const kafka = testKafka();
  let db: TestSchema;
  beforeAll(async () => {
    db = await testSchema();
  });
  afterAll(async () => {
    await db.drop();
  });

  it("ensureTopics creates topics and their .dlq with the configured partitions, idempotently", async () => {
    const id = uid();
    const specs = [
      { topic: `t${id}.a`, partitions: 4, replicationFactor: 1 },
      { topic: `t${id}.a.dlq`, partitions: 1, replicationFactor: 1 },
    ];
    try {
      expect(await ensureTopics(kafka, specs)).toEqual({
        created: [`t${id}.a`, `t${id}.a.dlq`],
        existing: [],
        mismatched: [],
        reconfigured: [],
      });
      const again = await ensureTopics(kafka, [{ ...specs[0]!, partitions: 6 }, specs[1]!]);
      expect(again).toEqual({
        created: [],
        existing: [`t${id}.a`, `t${id}.a.dlq`],
        mismatched: [{ topic: `t${id}.a`, expected: 6, actual: 4 }],
        reconfigured: [],
      });
    } finally {
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: specs.map((s) => s.topic) });
      await admin.disconnect();
    }
  });

  it("keeps rows, records the error and retries while Kafka refuses them; publishes once it accepts", async () => {
    const id = uid();
    const registry = testRegistry(id);
    // The topic does not exist yet (auto-creation is off): every send fails.
    await pgTransaction(db.pool, (tx) => changeTicket(tx, ticketPublisher(registry), "ticket-x"));
    const relay = createRelay({
      connectionString: databaseUrl(),
      schema: db.schema,
      kafka,
      pollIntervalMs: 100,
      backoff: { initialMs: 50, maxMs: 200 },
      sendTimeoutMs: 2_000,
    });
    await relay.start();
    try {
      await waitFor("a failed attempt", () => relay.status().consecutiveFailures >= 2, 30_000);
      expect(relay.status()).toMatchObject({
        state: "running",
        ready: true,
        degraded: true,
        publishedTotal: 0,
      });
      expect(await count(db.pool, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL")).toBe(1);
      await waitFor(
        "error recorded",
        async () => (await count(db.pool, "SELECT max(attempts) FROM event_outbox")) >= 1,
      );
      const row = await db.pool.query<{ last_error: string }>("SELECT last_error FROM event_outbox");
      expect(row.rows[0]?.last_error).toBeTruthy();

      await createTopics(kafka, registry, 1);
      await waitFor("published after recovery", () => relay.status().publishedTotal === 1, 30_000);
      expect(relay.status()).toMatchObject({ degraded: false, consecutiveFailures: 0, listening: true });
      expect(await count(db.pool, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL")).toBe(0);
    } finally {
      expect(await relay.stop()).toEqual({ timedOut: false });
      expect(relay.status().state).toBe("stopped");
      await deleteTopics(kafka, registry);
    }
  });

  it("prunes published rows older than the retention period, never unpublished ones", async () => {
    const id = uid();
    const registry = testRegistry(id);
    const schema = await testSchema();
    try {
      for (let i = 0; i < 3; i += 1) {
        await pgTransaction(schema.pool, (tx) => changeTicket(tx, ticketPublisher(registry), "ticket-y"));
      }
      await schema.pool.query(
        "UPDATE event_outbox SET published_at = now() - interval '2 hours' WHERE aggregate_version = 1",
      );
      await schema.pool.query("UPDATE event_outbox SET published_at = now() WHERE aggregate_version = 2");
      const relay = createRelay({
        connectionString: databaseUrl(),
        schema: schema.schema,
        kafka,
        retentionMs: 3_600_000,
      });
      expect(await relay.prune()).toBe(1);
      const left = await schema.pool.query<{ v: string }>(
        "SELECT aggregate_version::text AS v FROM event_outbox ORDER BY 1",
      );
      expect(left.rows.map((r) => r.v)).toEqual(["2", "3"]);
      await relay.stop();
    } finally {
      await schema.drop();
    }
  });
});
