import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createConsumer, pgTransactions, schemaConnection, type EventConsumer } from "../src/index.ts";
import type { BoxofficeEventDefinition, PgTransaction } from "../src/index.ts";
import {
  count,
  createTopics,
  databaseUrl,
  deleteTopics,
  effectReport,
  range,
  recordEffect,
  spawnFixture,
  testKafka,
  testRegistry,
  testSchema,
  ticketPublisher,
  topicSize,
  uid,
  waitFor,
  writeChanges,
  type Fixture,
  type TestSchema,
} from "./helpers.ts";

/**
 * SIGKILL of the relay process at its two crash points. The relay runs in a child process that
 * kills itself at the named point (fault.ts); a fresh process then finishes the job.
 */
describe("relay crash points (SIGKILL)", () => {
  const kafka = testKafka();
  let id: string;
  let db: TestSchema;
  let pool: pg.Pool;
  let consumer: EventConsumer<BoxofficeEventDefinition, PgTransaction> | undefined;
  const children: Fixture[] = [];
  const aggregates = range(10).map((n) => `ticket-${n}`);

  beforeEach(async () => {
    id = uid();
    db = await testSchema();
    pool = new pg.Pool({ ...schemaConnection(databaseUrl(), db.schema), max: 4 });
    await createTopics(kafka, testRegistry(id), 3);
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.child.kill("SIGKILL");
    await consumer?.stop();
    consumer = undefined;
    await pool.end();
    await db.drop();
    await deleteTopics(kafka, testRegistry(id));
  });

  function relayProcess(env: Record<string, string> = {}): Fixture {
    const f = spawnFixture("relay", { EVENTS_TEST_SCHEMA: db.schema, ...env });
    children.push(f);
    return f;
  }

  async function consumeAll(): Promise<EventConsumer<BoxofficeEventDefinition, PgTransaction>> {
    consumer = createConsumer({
      kafka,
      groupId: `test.relay-crash-${id}`,
      registry: testRegistry(id),
      transaction: pgTransactions(pool),
      handlers: {
        "ticket.created": (event, tx) => recordEffect(tx, event),
        "ticket.updated": (event, tx) => recordEffect(tx, event),
      },
    });
    await consumer.start();
    return consumer;
  }

  async function expectExactlyOnceInOrder(): Promise<void> {
    await waitFor("100 effects", async () => (await effectReport(db.pool)).total >= 100, 90_000);
    const report = await effectReport(db.pool);
    expect(report.total).toBe(100);
    expect(report.doubled).toBe(0);
    for (const a of aggregates) expect(report.sequences.get(a)).toEqual(range(10));
  }

  it("after the state transaction commits, before the relay publishes: nothing lost", async () => {
    await writeChanges(db.pool, ticketPublisher(testRegistry(id)), aggregates, 10);
    const crashed = relayProcess({ EVENTS_TEST_FAULT: "relay.before-send" });
    expect((await crashed.exited).signal).toBe("SIGKILL");
    // The crash point was really hit: every event committed, none on Kafka.
    expect(await count(db.pool, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL")).toBe(100);
    expect(await topicSize(kafka, testRegistry(id).topicFor("ticket"))).toBe(0);

    await consumeAll();
    const restarted = relayProcess();
    await restarted.ready;
    await expectExactlyOnceInOrder();
    expect(await count(db.pool, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL")).toBe(0);
  });

  it("after publishing, before marking the rows published: re-sent, applied once", async () => {
    await writeChanges(db.pool, ticketPublisher(testRegistry(id)), aggregates, 10);
    // Batches of 20: the first is sent and marked, the second is sent and the process dies.
    const crashed = relayProcess({ EVENTS_TEST_FAULT: "relay.after-send:2", EVENTS_TEST_BATCH_SIZE: "20" });
    expect((await crashed.exited).signal).toBe("SIGKILL");
    const topic = testRegistry(id).topicFor("ticket");
    expect(await topicSize(kafka, topic)).toBe(40);
    expect(await count(db.pool, "SELECT count(*) FROM event_outbox WHERE published_at IS NOT NULL")).toBe(20);

    const live = await consumeAll();
    const restarted = relayProcess({ EVENTS_TEST_BATCH_SIZE: "20" });
    await restarted.ready;
    await expectExactlyOnceInOrder();
    // The unmarked batch went out twice; the inbox turned the second copies into no-ops.
    expect(await topicSize(kafka, topic)).toBe(120);
    await waitFor("duplicates acknowledged", () => live.status().counts.duplicate === 20, 30_000);
    expect(live.status().counts.applied).toBe(100);
  });
});
