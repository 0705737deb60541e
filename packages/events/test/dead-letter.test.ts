import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  ACKS_ALL,
  createConsumer,
  createEventProducer,
  createRelay,
  pgTransactions,
  schemaConnection,
  type DeadLetter,
} from "../src/index.ts";
import {
  count,
  databaseUrl,
  effectReport,
  recordEffect,
  runCli,
  ticketPublisher,
  topicSize,
  waitFor,
  writeChanges,
} from "./helpers.ts";
import { useEventsBed } from "./bed.ts";

/**
 * A poison message (a handler bug for one event, and a malformed message) goes to `<topic>.dlq`
 * with the failure in headers; later messages on the same partition still arrive; after the fix,
 * replaying through the CLI applies it exactly once, and only for the group it is replayed for.
 */
describe("dead letters", () => {
  // // One partition: "later messages on its partition" are all the later messages.
  const bed = useEventsBed(1);
  const { id, registry, kafka } = bed;
  const topic = registry.topicFor("ticket");
  const dlq = `${topic}.dlq`;

  it("dead-letters poison, moves on, and a replay after the fix applies it once", async () => {
    const relay = createRelay({
      connectionString: databaseUrl(),
      schema: bed.db.schema,
      kafka,
      pollIntervalMs: 200,
    });
    const pool = new pg.Pool({ ...schemaConnection(databaseUrl(), bed.db.schema), max: 4 });
    const group = `test.dlq-${id}`;
    let fixed = false;
    let handlerRuns = 0;
    const consumer = createConsumer({
      kafka,
      groupId: group,
      registry,
      transaction: pgTransactions(pool),
      maxAttempts: 3,
      retryBackoff: { initialMs: 20, maxMs: 100 },
      handlers: {
        "ticket.created": (event, tx) => recordEffect(tx, event),
        "ticket.updated": async (event, tx) => {
          handlerRuns += 1;
          if (event.aggregateVersion === 3 && !fixed) throw new Error("simulated bug: cannot price v3");
          await recordEffect(tx, event);
        },
      },
    });
    // A second group on the same topic: replays aimed at `group` must not touch it.
    const otherPool = new pg.Pool({ ...schemaConnection(databaseUrl(), bed.db.schema), max: 2 });
    const other = createConsumer({
      kafka,
      groupId: `test.dlq-other-${id}`,
      registry,
      transaction: pgTransactions(otherPool),
      handlers: { "ticket.updated": () => Promise.resolve() },
    });
    await relay.start();
    await consumer.start();
    await other.start();
    try {
      await writeChanges(bed.db.pool, ticketPublisher(registry), ["ticket-p"], 3);
      await waitFor("v1..v3 published", () => relay.status().publishedTotal === 3);
      // A malformed message in the middle of the stream.
      const producer = createEventProducer(kafka);
      await producer.connect();
      await producer.send({ topic, acks: ACKS_ALL, messages: [{ key: "ticket-p", value: "{not json" }] });
      await producer.disconnect();
      await writeChanges(bed.db.pool, ticketPublisher(registry), ["ticket-p"], 3);

      await waitFor("v1, v2, v4, v5, v6 applied", async () => (await effectReport(bed.db.pool)).total === 5);
      // Each group dead-letters what it cannot process: ours the poison and the malformed message,
      // the other group the malformed message (its handler does not fail on v3).
      await waitFor("3 dead letters", async () => (await topicSize(kafka, dlq)) === 3);
      expect((await effectReport(bed.db.pool)).sequences.get("ticket-p")).toEqual([1, 2, 4, 5, 6]);
      expect(consumer.status().counts["dead-lettered"]).toBe(2);
      expect(handlerRuns).toBeGreaterThanOrEqual(3 + 3);

      // The CLI lists them with the failure and the original position.
      const listed = await runCli(["dlq", "list", dlq, "--json"]);
      expect(listed.code, listed.stderr).toBe(0);
      const all = JSON.parse(listed.stdout) as DeadLetter[];
      expect(all).toHaveLength(3);
      expect(all.filter((l) => l.consumerGroup !== group)).toMatchObject([
        { reason: "invalid", originalOffset: "3" },
      ]);
      const letters = all.filter((l) => l.consumerGroup === group);
      expect(letters).toHaveLength(2);
      const [poison, malformed] = letters;
      const v3EventId = (
        await bed.db.pool.query<{ event_id: string }>(
          "SELECT event_id FROM event_outbox WHERE aggregate_id = 'ticket-p' AND aggregate_version = 3",
        )
      ).rows[0]?.event_id;
      expect(poison).toMatchObject({
        eventId: v3EventId,
        eventType: "ticket.updated",
        reason: "max-attempts",
        errorName: "Error",
        errorMessage: "simulated bug: cannot price v3",
        originalTopic: topic,
        originalPartition: 0,
        originalOffset: "2",
        attempts: 3,
        consumerGroup: group,
        key: "ticket-p",
      });
      expect(Number.isNaN(Date.parse(poison?.failedAt ?? ""))).toBe(false);
      expect(malformed).toMatchObject({
        reason: "invalid",
        originalOffset: "3",
        attempts: 1,
        value: "{not json",
      });
      expect(malformed?.errorMessage).toMatch(/not JSON/);

      const inspected = await runCli(["dlq", "inspect", dlq, "0", poison?.offset ?? ""]);
      expect(inspected.code, inspected.stderr).toBe(0);
      expect(JSON.parse(inspected.stdout)).toMatchObject({
        eventId: v3EventId,
        value: { aggregateVersion: 3 },
      });

      // Fix the handler, replay the poison message (twice: the second is a no-op).
      fixed = true;
      for (let i = 0; i < 2; i += 1) {
        const replayed = await runCli(["dlq", "replay", dlq, "--event-id", v3EventId ?? ""]);
        expect(replayed.code, replayed.stderr).toBe(0);
        expect(JSON.parse(replayed.stdout)).toEqual({
          replayed: [{ partition: 0, offset: poison?.offset, eventId: v3EventId }],
        });
      }
      await waitFor("replays settled", () => consumer.status().counts.duplicate === 1);
      const report = await effectReport(bed.db.pool);
      expect(report.sequences.get("ticket-p")).toEqual([1, 2, 4, 5, 6, 3]);
      expect(report.doubled).toBe(0);
      expect(
        await count(bed.db.pool, "SELECT count(*) FROM event_inbox WHERE consumer_group = $1", [group]),
      ).toBe(6);
      await waitFor("other group saw both replays", () => other.status().counts["skipped-other-group"] === 2);
      expect(other.status().counts.applied).toBe(5);
      expect(other.status().counts["dead-lettered"]).toBe(1);
    } finally {
      await other.stop();
      await consumer.stop();
      await relay.stop();
      await pool.end();
      await otherPool.end();
    }
  });
});
