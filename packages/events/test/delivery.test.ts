import pg from "pg";
import { describe, expect, it } from "vitest";
import { createConsumer, createRelay, pgTransactions } from "../src/index.ts";
import {
  databaseUrl,
  effectReport,
  range,
  recordEffect,
  ticketPublisher,
  waitFor,
  writeChanges,
} from "./helpers.ts";
import { useEventsBed } from "./bed.ts";

/**
 * The end-to-end guarantee at volume: 10,000 events over 50 aggregates, written in committed
 * transactions while TWO relay replicas race over one outbox, consumed by a consumer group.
 */
describe("delivery at volume", () => {
  const bed = useEventsBed(6);
  const { id, registry, kafka } = bed;

  it("delivers every one of 10,000 events, applies each exactly once, in per-aggregate order", async () => {
    const aggregates = range(50).map((n) => `ticket-${n}`);
    const perAggregate = 200;
    const relays = [1, 2].map(() =>
      createRelay({ connectionString: databaseUrl(), schema: bed.db.schema, kafka, pollIntervalMs: 200 }),
    );
    const consumerPool = new pg.Pool({
      connectionString: databaseUrl(),
      options: `-c search_path=${bed.db.schema}`,
      max: 4,
    });
    const consumer = createConsumer({
      kafka,
      groupId: `test.delivery-${id}`,
      registry,
      transaction: pgTransactions(consumerPool),
      partitionsConsumedConcurrently: 3,
      handlers: {
        "ticket.created": (event, tx) => recordEffect(tx, event),
        "ticket.updated": (event, tx) => recordEffect(tx, event),
      },
    });
    await Promise.all(relays.map((r) => r.start()));
    await consumer.start();
    try {
      await writeChanges(bed.db.pool, ticketPublisher(registry), aggregates, perAggregate);
      const total = aggregates.length * perAggregate;
      await waitFor(
        "all effects",
        async () => (await effectReport(bed.db.pool)).total >= total,
        150_000,
        250,
      );

      const report = await effectReport(bed.db.pool);
      expect(report.total).toBe(total);
      expect(report.distinctEvents).toBe(total);
      expect(report.doubled).toBe(0);
      for (const aggregate of aggregates) {
        expect(report.sequences.get(aggregate)).toEqual(range(perAggregate));
      }
      // Replicas never both published a row: each row was marked once, by one relay.
      const published = relays.reduce((sum, r) => sum + r.status().publishedTotal, 0);
      expect(published).toBe(total);
      expect(consumer.status().counts.applied).toBe(total);
      expect(consumer.status().counts.duplicate).toBe(0);
    } finally {
      await consumer.stop();
      await Promise.all(relays.map((r) => r.stop()));
      await consumerPool.end();
    }
  });
});
