import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  applyIfNewer,
  createConsumer,
  createRelay,
  pgTransactions,
  rebuildReadModel,
  schemaConnection,
  type EventOfType,
  type PgTransaction,
  type BoxofficeEventDefinition,
} from "../src/index.ts";
import {
  committedTotal,
  databaseUrl,
  range,
  ticketPublisher,
  topicSize,
  waitFor,
  writeChanges,
} from "./helpers.ts";
import { useEventsBed } from "./bed.ts";

type TicketEvent = EventOfType<BoxofficeEventDefinition, "ticket.created" | "ticket.updated">;

/** A ticket replica handler writing into `table` (a live or a fresh table). */
const replicaInto = (table: string) => async (event: TicketEvent, tx: PgTransaction) => {
  await applyIfNewer(tx, {
    table,
    key: { id: event.aggregateId },
    version: event.aggregateVersion,
    values: { title: event.data.title, price_minor: event.data.priceMinor, status: event.data.status },
  });
};

describe("read model rebuild", () => {
  const bed = useEventsBed(3);
  const { id, registry, kafka } = bed;

  afterAll(async () => {
    await bed.db.pool.query(`DROP SCHEMA IF EXISTS rebuild_${id} CASCADE`);
  });

  it("replays the topics from the beginning into fresh tables and ends equal to the live replica", async () => {
    const relay = createRelay({
      connectionString: databaseUrl(),
      schema: bed.db.schema,
      kafka,
      pollIntervalMs: 200,
    });
    await relay.start();
    try {
      await writeChanges(
        bed.db.pool,
        ticketPublisher(registry),
        range(8).map((n) => `ticket-${n}`),
        15,
      );
      await waitFor("published", () => relay.status().publishedTotal === 120);
    } finally {
      await relay.stop();
    }

    const pool = new pg.Pool({ ...schemaConnection(databaseUrl(), bed.db.schema), max: 4 });
    const live = createConsumer({
      kafka,
      groupId: `test.rebuild-${id}`,
      registry,
      transaction: pgTransactions(pool),
      handlers: {
        "ticket.created": replicaInto("ticket_replica"),
        "ticket.updated": replicaInto("ticket_replica"),
      },
    });
    await live.start();
    try {
      await waitFor("live replica caught up", () => live.status().counts.applied === 120);
    } finally {
      await live.stop();
    }

    const fresh = `rebuild_${id}.ticket_replica`;
    const result = await rebuildReadModel({
      kafka,
      registry,
      groupId: `test.rebuild-${id}`,
      transaction: pgTransactions(pool),
      handlers: { "ticket.created": replicaInto(fresh), "ticket.updated": replicaInto(fresh) },
      prepare: async () => {
        await bed.db.pool.query(`CREATE SCHEMA rebuild_${id}`);
        await bed.db.pool.query(`CREATE TABLE ${fresh} (LIKE ticket_replica INCLUDING ALL)`);
      },
    });
    await pool.end();

    expect(result.groupId).toMatch(new RegExp(`^test\\.rebuild-${id}\\.rebuild-\\d+$`));
    expect(result.messages).toBe(120);
    expect(result.counts.applied).toBe(120);
    const liveRows = await bed.db.pool.query("SELECT * FROM ticket_replica ORDER BY id");
    const rebuiltRows = await bed.db.pool.query(`SELECT * FROM ${fresh} ORDER BY id`);
    expect(liveRows.rows).toHaveLength(8);
    expect(rebuiltRows.rows).toEqual(liveRows.rows);
    // The rebuild group's offsets sit at the end: live consumption can continue under it.
    const topic = registry.topicFor("ticket");
    expect(await committedTotal(kafka, result.groupId, topic)).toBe(await topicSize(kafka, topic));
  });
});
