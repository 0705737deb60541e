import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createConsumer, createRelay, pgTransactions, type OutboxRelay } from "../src/index.ts";
import {
  committedTotal,
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
  uid,
  waitFor,
  writeChanges,
  type Fixture,
  type TestSchema,
} from "./helpers.ts";

/**
 * SIGKILL of the consumer process at its two crash points; a restarted process (same group) must
 * neither lose nor double any effect. And a crash of the kafkajs consumer inside a live process that
 * kafkajs does not restart from: the consumer restarts itself, with the same guarantees.
 */
describe("consumer crashes", () => {
  const kafka = testKafka();
  let id: string;
  let db: TestSchema;
  let relay: OutboxRelay;
  const children: Fixture[] = [];
  const aggregates = range(10).map((n) => `ticket-${n}`);

  beforeEach(async () => {
    id = uid();
    db = await testSchema();
    await createTopics(kafka, testRegistry(id), 3);
    relay = createRelay({ connectionString: databaseUrl(), schema: db.schema, kafka, pollIntervalMs: 200 });
    await relay.start();
    await writeChanges(db.pool, ticketPublisher(testRegistry(id)), aggregates, 10);
    await waitFor("relay published 100", () => relay.status().publishedTotal === 100, 30_000);
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.child.kill("SIGKILL");
    await relay.stop();
    await db.drop();
    await deleteTopics(kafka, testRegistry(id));
  });

  function consumerProcess(group: string, env: Record<string, string> = {}): Fixture {
    const f = spawnFixture("consumer", {
      EVENTS_TEST_SCHEMA: db.schema,
      EVENTS_TEST_TOPICS_ID: id,
      EVENTS_TEST_GROUP: group,
      ...env,
    });
    children.push(f);
    return f;
  }

  async function restartAndExpectExactlyOnce(group: string): Promise<void> {
    const topic = testRegistry(id).topicFor("ticket");
    const restarted = consumerProcess(group);
    await restarted.ready;
    // Done when every offset is committed: the redelivered messages were settled too.
    await waitFor(
      "all offsets committed",
      async () => (await committedTotal(kafka, group, topic)) === 100,
      90_000,
      250,
    );
    const report = await effectReport(db.pool);
    expect(report.total).toBe(100);
    expect(report.doubled).toBe(0);
    for (const a of aggregates) expect(report.sequences.get(a)).toEqual(range(10));
    expect(await count(db.pool, "SELECT count(*) FROM event_inbox WHERE consumer_group = $1", [group])).toBe(
      100,
    );
  }

  it("after the consumer's database commit, before its offset commit: redelivered as a no-op", async () => {
    const group = `test.consumer-crash-commit-${id}`;
    const topic = testRegistry(id).topicFor("ticket");
    const crashed = consumerProcess(group, { EVENTS_TEST_FAULT: "consumer.after-db-commit:5" });
    expect((await crashed.exited).signal).toBe("SIGKILL");
    // The crash point was really hit: 5 effects committed, their offsets not.
    expect((await effectReport(db.pool)).total).toBe(5);
    expect(await committedTotal(kafka, group, topic)).toBe(0);
    await restartAndExpectExactlyOnce(group);
  });

  it("in the middle of a batch: the applied half is not applied again, the rest is applied", async () => {
    const group = `test.consumer-crash-batch-${id}`;
    const topic = testRegistry(id).topicFor("ticket");
    const crashed = consumerProcess(group, { EVENTS_TEST_FAULT: "consumer.mid-batch" });
    expect((await crashed.exited).signal).toBe("SIGKILL");
    const applied = (await effectReport(db.pool)).total;
    expect(applied).toBeGreaterThan(0);
    expect(applied).toBeLessThan(100);
    expect(await committedTotal(kafka, group, topic)).toBeLessThan(applied);
    await restartAndExpectExactlyOnce(group);
  });

  it("a crash kafkajs will not restart from: the consumer restarts itself and applies the rest once", async () => {
    const group = `test.consumer-crash-non-retriable-${id}`;
    const topic = testRegistry(id).topicFor("ticket");
    const consumer = createConsumer({
      kafka,
      groupId: group,
      registry: testRegistry(id),
      transaction: pgTransactions(db.pool),
      // The crash comes on the second fetched batch (three partitions: at least three batches),
      // after the first batch was applied.
      restartBackoff: { initialMs: 200, maxMs: 200 },
      faultInjection: { point: "consumer.non-retriable-crash", onHit: 2 },
      handlers: {
        "ticket.created": (event, tx) => recordEffect(tx, event),
        "ticket.updated": (event, tx) => recordEffect(tx, event),
      },
    });
    await consumer.start();
    try {
      await waitFor(
        "all offsets committed",
        async () => (await committedTotal(kafka, group, topic)) === 100,
        90_000,
        250,
      );
      const status = consumer.status();
      expect(status.restarts).toBe(1);
      expect(status.lastError).toContain("consumer.non-retriable-crash");
      expect(status.state).toBe("running");
      await waitFor("joined again", () => consumer.status().ready, 30_000);
      const report = await effectReport(db.pool);
      expect(report.total).toBe(100);
      expect(report.doubled).toBe(0);
      for (const a of aggregates) expect(report.sequences.get(a)).toEqual(range(10));
    } finally {
      await consumer.stop();
    }
  });

  it("stop() while a restart after such a crash is pending: it stops within its deadline and nothing restarts later", async () => {
    const group = `test.consumer-crash-stop-pending-${id}`;
    const consumer = createConsumer({
      kafka,
      groupId: group,
      registry: testRegistry(id),
      transaction: pgTransactions(db.pool),
      restartBackoff: { initialMs: 2_000, maxMs: 2_000 },
      faultInjection: { point: "consumer.non-retriable-crash", onHit: 1 },
      handlers: { "ticket.created": (event, tx) => recordEffect(tx, event) },
    });
    await consumer.start();
    await waitFor(
      "crashed",
      () => consumer.status().lastError?.includes("non-retriable-crash") ?? false,
      30_000,
    );
    // The crash is not mistaken for a join: not ready, not joining, while the restart waits.
    expect(consumer.status()).toMatchObject({ state: "running", ready: false, joining: false, restarts: 0 });
    expect(await consumer.stop(5_000)).toEqual({ timedOut: false });
    const appliedAtStop = (await effectReport(db.pool)).total;
    // Past the restart's backoff: it never ran, and nothing more was applied.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(consumer.status()).toMatchObject({ state: "stopped", restarts: 0 });
    expect((await effectReport(db.pool)).total).toBe(appliedAtStop);
    expect(appliedAtStop).toBeLessThan(10);
  });
});
