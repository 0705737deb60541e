/**
 * `applyBatchSize`: a run of messages per transaction keeps the per-message guarantees — every
 * event applied exactly once, in per-aggregate order, a redelivered run a no-op, a failing handler
 * rolling back its whole run and the run redone message by message (retries, then the dead-letter
 * topic for the poison, the rest applied) — through `pg` and through a Prisma interactive
 * transaction (array parameters in the inbox statement).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createConsumer,
  createEventProducer,
  createRelay,
  pgTransactions,
  prismaTransactions,
  readTopic,
  ACKS_ALL,
  type TransactionClientOf,
} from "../src/index.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import {
  count,
  databaseUrl,
  range,
  recordEffect,
  ticketPublisher,
  topicSize,
  waitFor,
  writeChanges,
} from "./helpers.ts";
import { useEventsBed } from "./bed.ts";

describe("consumer applying runs of messages per transaction", () => {
  const bed = useEventsBed(3);
  const { id, registry, kafka } = bed;
  const topic = registry.topicFor("ticket");
  const aggregates = range(20).map((n) => `ticket-${n}`);

  beforeAll(async () => {
    const relay = createRelay({
      connectionString: databaseUrl(),
      schema: bed.db.schema,
      kafka,
      pollIntervalMs: 200,
    });
    await relay.start();
    try {
      await writeChanges(bed.db.pool, ticketPublisher(registry), aggregates, 25);
      await waitFor("500 published", () => relay.status().publishedTotal === 500, 60_000);
    } finally {
      await relay.stop();
    }
  });

  it("a handler failing in a run rolls the run back; redone one by one, the poison is dead-lettered and the rest applied once", async () => {
    const pool = new pg.Pool({
      connectionString: databaseUrl(),
      options: `-c search_path=${bed.db.schema}`,
      max: 4,
    });
    const group = `test.runs-poison-${id}`;
    const consumer = createConsumer({
      kafka,
      groupId: group,
      registry,
      transaction: pgTransactions(pool),
      applyBatchSize: 50,
      maxAttempts: 2,
      retryBackoff: { initialMs: 10, maxMs: 10 },
      handlers: {
        "ticket.updated": async (event, tx) => {
          if (event.aggregateId === "ticket-3" && event.aggregateVersion === 7) {
            throw new Error("simulated bug: cannot apply ticket-3 v7");
          }
          await recordEffect(tx, event, "poison");
        },
      },
    });
    await consumer.start();
    try {
      // 500 events: 20 ticket.created (no handler here: skipped), 480 updates, one of them poison.
      await waitFor(
        "every message settled",
        () => {
          const c = consumer.status().counts;
          return c.applied + c["dead-lettered"] + c["skipped-unhandled"] === 500;
        },
        60_000,
      );
      expect(consumer.status().counts).toMatchObject({
        applied: 479,
        "dead-lettered": 1,
        "skipped-unhandled": 20,
      });
      const effects = await count(bed.db.pool, "SELECT count(*) FROM effect WHERE consumer = 'poison'");
      const distinct = await count(
        bed.db.pool,
        "SELECT count(DISTINCT event_id) FROM effect WHERE consumer = 'poison'",
      );
      expect(effects).toBe(479);
      expect(distinct).toBe(479);
      const versions = await bed.db.pool.query<{ v: number }>(
        "SELECT aggregate_version AS v FROM effect WHERE consumer = 'poison' AND aggregate_id = 'ticket-3' ORDER BY seq",
      );
      expect(versions.rows.map((r) => r.v)).toEqual(range(25).filter((v) => v !== 1 && v !== 7));
      expect(await topicSize(kafka, `${topic}.dlq`)).toBe(1);
    } finally {
      await consumer.stop();
      await pool.end();
    }
  });

  it("runs through a Prisma interactive transaction (the inbox statement's array parameters)", async () => {
    const prisma = new PrismaClient({
      adapter: new PrismaPg(
        { connectionString: databaseUrl(), options: `-c search_path=${bed.db.schema}` },
        { schema: bed.db.schema },
      ),
    });
    const group = `test.runs-prisma-${id}`;
    const consumer = createConsumer({
      kafka,
      groupId: group,
      registry,
      transaction: prismaTransactions(prisma),
      applyBatchSize: 50,
      handlers: {
        "ticket.created": (event, tx: TransactionClientOf<typeof prisma>) =>
          recordEffect(tx, event, "prisma"),
        "ticket.updated": (event, tx: TransactionClientOf<typeof prisma>) =>
          recordEffect(tx, event, "prisma"),
      },
    });
    await consumer.start();
    try {
      await waitFor("500 applied", () => consumer.status().counts.applied === 500, 60_000);
      expect(
        await count(bed.db.pool, "SELECT count(DISTINCT event_id) FROM effect WHERE consumer = 'prisma'"),
      ).toBe(500);
      expect(
        await count(bed.db.pool, "SELECT count(*) FROM event_inbox WHERE consumer_group = $1", [group]),
      ).toBe(500);
    } finally {
      await consumer.stop();
      await prisma.$disconnect();
    }
  });

  // Last: it re-sends every message to the topic, which the other tests must not see.
  it("applies each event once and in per-aggregate order; the same messages again are duplicates", async () => {
    const pool = new pg.Pool({
      connectionString: databaseUrl(),
      options: `-c search_path=${bed.db.schema}`,
      max: 4,
    });
    const group = `test.runs-${id}`;
    let transactions = 0;
    const consumer = createConsumer({
      kafka,
      groupId: group,
      registry,
      transaction: (fn) => {
        transactions += 1;
        return pgTransactions(pool)(fn);
      },
      applyBatchSize: 50,
      partitionsConsumedConcurrently: 3,
      handlers: {
        "ticket.created": (event, tx) => recordEffect(tx, event, "runs"),
        "ticket.updated": (event, tx) => recordEffect(tx, event, "runs"),
      },
    });
    await consumer.start();
    try {
      await waitFor("500 applied", () => consumer.status().counts.applied === 500, 60_000);
      // Fewer transactions than messages: runs really were applied together.
      expect(transactions).toBeLessThan(500);
      // Every message again (a relay re-send after a crash looks like this): all duplicates.
      const records = await readTopic(kafka, { topic });
      const producer = createEventProducer(kafka);
      await producer.connect();
      await producer.send({
        topic,
        acks: ACKS_ALL,
        messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      });
      await producer.disconnect();
      await waitFor("500 duplicates", () => consumer.status().counts.duplicate === 500, 60_000);
      expect(await count(bed.db.pool, "SELECT count(*) FROM effect WHERE consumer = 'runs'")).toBe(500);
      expect(
        await count(bed.db.pool, "SELECT count(DISTINCT event_id) FROM effect WHERE consumer = 'runs'"),
      ).toBe(500);
      const applied = await bed.db.pool.query<{ aggregate_id: string; v: number }>(
        "SELECT aggregate_id, aggregate_version AS v FROM effect WHERE consumer = 'runs' ORDER BY seq",
      );
      for (const a of aggregates) {
        expect(applied.rows.filter((r) => r.aggregate_id === a).map((r) => r.v)).toEqual(range(25));
      }
      expect(consumer.status().lag.events).toBe(0);
    } finally {
      await consumer.stop();
      await pool.end();
    }
  });
});
