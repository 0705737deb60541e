import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createConsumer,
  createRelay,
  installEventTables,
  prismaTransactions,
  quoteIdentifier,
  type TransactionClientOf,
} from "../src/index.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import {
  count,
  createTopics,
  databaseUrl,
  deleteTopics,
  testKafka,
  testRegistry,
  ticketPublisher,
  uid,
  waitFor,
} from "./helpers.ts";

/**
 * The integration a subgraph uses: `publish(tx, …)` inside a real Prisma interactive transaction
 * (Prisma 7 + @prisma/adapter-pg on a non-public schema), and a consumer whose handler writes
 * through the Prisma transaction client.
 */
describe("outbox inside a Prisma transaction", () => {
  const id = uid();
  const schema = `evp_${id}`;
  const registry = testRegistry(id);
  const publisher = ticketPublisher(registry);
  const kafka = testKafka();
  let prisma: PrismaClient;
  let admin: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: databaseUrl() });
    await admin.connect();
    await installEventTables(admin, schema);
    await admin.query(
      `CREATE TABLE ${quoteIdentifier(schema)}.ticket (id text PRIMARY KEY, title text NOT NULL, version integer NOT NULL)`,
    );
    prisma = new PrismaClient({
      adapter: new PrismaPg(
        { connectionString: databaseUrl(), options: `-c search_path=${schema}` },
        { schema },
      ),
    });
    await createTopics(kafka, registry, 1);
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await admin.query(`DROP SCHEMA ${quoteIdentifier(schema)} CASCADE`);
    await admin.end();
    await deleteTopics(kafka, registry);
  });

  const outboxRows = () => count(admin as unknown as pg.Pool, `SELECT count(*) FROM ${schema}.event_outbox`);
  const draft = (ticketId: string) => ({
    type: "ticket.created" as const,
    schemaVersion: 1 as const,
    aggregateId: ticketId,
    aggregateVersion: 1,
    data: {
      ticketId,
      title: "Opera",
      priceMinor: 5000,
      currency: "EUR",
      sellerId: "s1",
      status: "AVAILABLE" as const,
      version: 1,
    },
  });

  it("rollback of the state change leaves no outbox row; commit writes both and notifies", async () => {
    const listener = new pg.Client({ connectionString: databaseUrl() });
    await listener.connect();
    const notifications: string[] = [];
    // The channel is shared by every schema on the server (its payload names the schema), and other
    // test files write outbox rows concurrently: keep only this file's.
    listener.on("notification", (n) => {
      if (n.payload === schema) notifications.push(n.payload);
    });
    await listener.query("LISTEN boxoffice_event_outbox");
    try {
      await expect(
        prisma.$transaction(async (tx) => {
          await tx.ticket.create({ data: { id: "t-rollback", title: "Opera", version: 1 } });
          await publisher.publish(tx, draft("t-rollback"));
          throw new Error("business rule failed after publish");
        }),
      ).rejects.toThrow("business rule failed after publish");
      expect(await prisma.ticket.count()).toBe(0);
      expect(await outboxRows()).toBe(0);

      const event = await prisma.$transaction(async (tx) => {
        await tx.ticket.create({ data: { id: "t-commit", title: "Opera", version: 1 } });
        return publisher.publish(tx, draft("t-commit"));
      });
      expect(await prisma.ticket.count()).toBe(1);
      const rows = await admin.query<{
        payload: unknown;
        aggregate_version: string;
        published_at: Date | null;
      }>(`SELECT payload, aggregate_version, published_at FROM ${schema}.event_outbox`);
      expect(rows.rows).toEqual([{ payload: event, aggregate_version: "1", published_at: null }]);
      expect(event.data.title).toBe("Opera");
      await waitFor("NOTIFY at commit", () => notifications.length > 0, 5_000);
      // Only the committed transaction notified (NOTIFY of a rolled-back transaction is dropped).
      expect(notifications).toEqual([schema]);
    } finally {
      await listener.end();
    }
  });

  it("a consumer applies through Prisma's transaction client, inbox in the same transaction", async () => {
    await prisma.$transaction(async (tx) => {
      await tx.ticket.create({ data: { id: "t-consumed", title: "Opera", version: 1 } });
      await publisher.publish(tx, draft("t-consumed"));
    });
    const relay = createRelay({ connectionString: databaseUrl(), schema, kafka, pollIntervalMs: 200 });
    const group = `test.prisma-${id}`;
    const consumer = createConsumer({
      kafka,
      groupId: group,
      registry,
      transaction: prismaTransactions(prisma),
      handlers: {
        "ticket.created": async (event, tx: TransactionClientOf<typeof prisma>) => {
          await tx.ticket.update({
            where: { id: event.aggregateId },
            data: { title: `${event.data.title} (seen)` },
          });
        },
      },
    });
    await relay.start();
    await consumer.start();
    try {
      await waitFor("applied", () => consumer.status().counts.applied >= 2, 60_000);
      const tickets = await prisma.ticket.findMany({ orderBy: { id: "asc" } });
      expect(tickets.map((t) => t.title)).toEqual(["Opera (seen)", "Opera (seen)"]);
      expect(
        await count(
          admin as unknown as pg.Pool,
          `SELECT count(*) FROM ${schema}.event_inbox WHERE consumer_group = $1`,
          [group],
        ),
      ).toBe(2);
    } finally {
      await consumer.stop();
      await relay.stop();
    }
  });
});
