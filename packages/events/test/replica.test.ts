import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  ACKS_ALL,
  applyIfNewer,
  createConsumer,
  createEventProducer,
  envelopeHeaders,
  isNewer,
  pgTransactions,
  schemaConnection,
  type EventEnvelope,
  type MessageOutcome,
} from "../src/index.ts";
import { committedTotal, databaseUrl, ticketPublisher, topicSize, waitFor } from "./helpers.ts";
import { useEventsBed } from "./bed.ts";

describe("version-aware replica", () => {
  const bed = useEventsBed(1);
  const { id, registry, kafka } = bed;

  it("isNewer compares versions, treating a missing row as older than anything", () => {
    expect(isNewer(undefined, 1)).toBe(true);
    expect(isNewer(null, 1)).toBe(true);
    expect(isNewer(2, 3)).toBe(true);
    expect(isNewer(3, 3)).toBe(false);
    expect(isNewer(3n, 2)).toBe(false);
  });

  it("delivered v1, v3, v2, v3: ends at v3, never goes backwards, duplicates acknowledged", async () => {
    const publisher = ticketPublisher(registry);
    const ticket = (version: number) =>
      publisher.createEnvelope({
        type: version === 1 ? "ticket.created" : "ticket.updated",
        schemaVersion: 1,
        aggregateId: "ticket-r",
        aggregateVersion: version,
        data: {
          ticketId: "ticket-r",
          title: `Title v${version}`,
          priceMinor: 100 * version,
          currency: "EUR",
          sellerId: "s",
          status: version === 3 ? "SOLD" : "AVAILABLE",
          version,
        },
      });
    const [v1, v2, v3] = [ticket(1), ticket(2), ticket(3)];
    // Out of order and duplicated, as a replay or a redelivery can produce: produced directly.
    const topic = registry.topicFor("ticket");
    const producer = createEventProducer(kafka);
    await producer.connect();
    await producer.send({
      topic,
      acks: ACKS_ALL,
      messages: [v1, v3, v2, v3].map((e) => ({
        key: e.aggregateId,
        value: JSON.stringify(e),
        headers: envelopeHeaders(e as EventEnvelope),
      })),
    });
    await producer.disconnect();

    const pool = new pg.Pool({ ...schemaConnection(databaseUrl(), bed.db.schema), max: 2 });
    const storedAfterEach: number[] = [];
    const results: string[] = [];
    const outcomes: MessageOutcome[] = [];
    const apply = async (
      event: typeof v1,
      tx: Parameters<Parameters<ReturnType<typeof pgTransactions>>[0]>[0],
    ) => {
      results.push(
        await applyIfNewer(tx, {
          table: "ticket_replica",
          key: { id: event.aggregateId },
          version: event.aggregateVersion,
          values: { title: event.data.title, price_minor: event.data.priceMinor, status: event.data.status },
        }),
      );
      const rows = await tx.$queryRawUnsafe<Array<{ version: number }>>(
        "SELECT version FROM ticket_replica WHERE id = $1",
        event.aggregateId,
      );
      storedAfterEach.push(rows[0]?.version ?? 0);
    };
    const group = `test.replica-${id}`;
    const consumer = createConsumer({
      kafka,
      groupId: group,
      registry,
      transaction: pgTransactions(pool),
      handlers: { "ticket.created": apply, "ticket.updated": apply },
      onOutcome: (o) => outcomes.push(o),
    });
    await consumer.start();
    try {
      await waitFor("4 messages settled", () => outcomes.length === 4, 60_000);
      expect(outcomes.map((o) => o.kind)).toEqual(["applied", "applied", "applied", "duplicate"]);
      expect(results).toEqual(["applied", "applied", "stale"]);
      expect(storedAfterEach).toEqual([1, 3, 3]);
      const replica = await bed.db.pool.query(
        "SELECT id, title, price_minor, status, version FROM ticket_replica",
      );
      expect(replica.rows).toEqual([
        { id: "ticket-r", title: "Title v3", price_minor: 300, status: "SOLD", version: 3 },
      ]);
      // Every message acknowledged (offsets committed), nothing dead-lettered.
      await waitFor("offsets committed", async () => (await committedTotal(kafka, group, topic)) === 4);
      expect(await topicSize(kafka, `${topic}.dlq`)).toBe(0);
    } finally {
      await consumer.stop();
      await pool.end();
    }
  });
});
