import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  createConsumer,
  createRelay,
  pgTransactions,
  schemaConnection,
  type SqlExecutor,
} from "../src/index.ts";
import {
  committedTotal,
  databaseUrl,
  effectReport,
  range,
  recordEffect,
  ticketPublisher,
  waitFor,
  writeChanges,
} from "./helpers.ts";
import { useEventsBed } from "./bed.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("consumer group membership", () => {
  const bed = useEventsBed(6);
  const { id, registry, kafka } = bed;
  const topic = registry.topicFor("ticket");

  it("a second consumer joining mid-stream (rebalance): no lost and no doubled effects", async () => {
    const aggregates = range(20).map((n) => `ticket-${n}`);
    const relay = createRelay({
      connectionString: databaseUrl(),
      schema: bed.db.schema,
      kafka,
      pollIntervalMs: 200,
    });
    await relay.start();
    try {
      await writeChanges(bed.db.pool, ticketPublisher(registry), aggregates, 50);
      await waitFor("relay published 1000", () => relay.status().publishedTotal === 1000);
    } finally {
      await relay.stop();
    }

    const group = `test.rebalance-${id}`;
    const pool = new pg.Pool({ ...schemaConnection(databaseUrl(), bed.db.schema), max: 6 });
    // A slow handler, so the stream is still flowing when the second member joins.
    const member = (name: string) => {
      const apply = async (event: Parameters<typeof recordEffect>[1], tx: SqlExecutor) => {
        await sleep(4);
        await recordEffect(tx, event, name);
      };
      return createConsumer({
        kafka,
        groupId: group,
        registry,
        transaction: pgTransactions(pool),
        partitionsConsumedConcurrently: 2,
        heartbeatIntervalMs: 500,
        handlers: { "ticket.created": apply, "ticket.updated": apply },
      });
    };
    const first = member("first");
    const second = member("second");
    await first.start();
    try {
      await waitFor("first member ready", () => first.status().ready);
      expect(first.status().assignments[topic]).toEqual([0, 1, 2, 3, 4, 5]);
      await waitFor(
        "first quarter applied",
        async () => (await effectReport(bed.db.pool)).total >= 250,
        60_000,
      );
      await second.start();
      await waitFor(
        "both members share the partitions",
        () => {
          const a = first.status();
          const b = second.status();
          return (
            a.ready &&
            b.ready &&
            (a.assignments[topic]?.length ?? 0) + (b.assignments[topic]?.length ?? 0) === 6 &&
            (b.assignments[topic]?.length ?? 0) > 0
          );
        },
        60_000,
      );
      await waitFor("all 1000 applied", async () => (await effectReport(bed.db.pool)).total >= 1000, 90_000);
      await waitFor(
        "all offsets committed",
        async () => (await committedTotal(kafka, group, topic)) === 1000,
      );

      const report = await effectReport(bed.db.pool);
      expect(report.total).toBe(1000);
      expect(report.doubled).toBe(0);
      for (const a of aggregates) expect(report.sequences.get(a)).toEqual(range(50));
      expect(second.status().counts.applied).toBeGreaterThan(0);
      expect(first.status().counts.applied + second.status().counts.applied).toBe(1000);
    } finally {
      await second.stop();
      await first.stop();
      await pool.end();
    }
  });

  it("graceful shutdown finishes the message in flight, commits it, and reports not ready", async () => {
    const group = `test.shutdown-${id}`;
    const pool = new pg.Pool({ ...schemaConnection(databaseUrl(), bed.db.schema), max: 2 });
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    let finished = 0;
    const slow = async (event: Parameters<typeof recordEffect>[1], tx: SqlExecutor) => {
      started();
      await sleep(1_500);
      await recordEffect(tx, event, "shutdown");
      finished += 1;
    };
    const consumer = createConsumer({
      kafka,
      groupId: group,
      registry,
      transaction: pgTransactions(pool),
      handlers: { "ticket.created": slow, "ticket.updated": slow },
    });
    await consumer.start();
    try {
      await inFlight;
      expect(consumer.status().ready).toBe(true);
      const stopping = consumer.stop(10_000);
      expect(consumer.status().ready).toBe(false);
      const { timedOut } = await stopping;
      expect(timedOut).toBe(false);
      expect(consumer.status().state).toBe("stopped");
      // The message in flight completed and its offset was committed before leaving the group.
      expect(finished).toBe(1);
      expect(await committedTotal(kafka, group, topic)).toBe(1);
      const effects = await bed.db.pool.query(
        "SELECT count(*)::int AS n FROM effect WHERE consumer = 'shutdown'",
      );
      expect(effects.rows[0]).toEqual({ n: 1 });
    } finally {
      await consumer.stop();
      await pool.end();
    }
  });
});
