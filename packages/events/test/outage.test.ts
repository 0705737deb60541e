import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { down, freePortPair, up } from "@boxoffice/infra";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createConsumer,
  createRelay,
  pgTransaction,
  pgTransactions,
  schemaConnection,
} from "../src/index.ts";
import {
  createTopics,
  databaseUrl,
  effectReport,
  recordEffect,
  testKafka,
  testRegistry,
  testSchema,
  ticketPublisher,
  changeTicket,
  uid,
  waitFor,
  type TestSchema,
} from "./helpers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The broker is stopped for 20 s while the service keeps writing. Uses a private broker (the shared
 * one serves other tests), started and stopped through the infra API.
 */
describe("broker outage", () => {
  const id = uid();
  const registry = testRegistry(id);
  let env: NodeJS.ProcessEnv;
  let dataDir: string;
  let db: TestSchema;
  let brokers: string[];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "boxoffice-events-outage-"));
    await chmod(dataDir, 0o755);
    const port = await freePortPair();
    env = {
      ...process.env,
      KAFKA_BROKERS: "",
      INFRA_DATA_DIR: dataDir,
      INFRA_KAFKA_PORT: String(port),
      INFRA_KAFKA_CONTROLLER_PORT: String(port + 1),
    };
    brokers = (await up({ env, only: ["kafka"], report: () => undefined })).kafkaBrokers;
    db = await testSchema();
  });
  afterAll(async () => {
    await down({ env, report: () => undefined });
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("every write succeeds while the broker is down for 20 s; every event arrives after it returns", async () => {
    const kafka = testKafka("outage", brokers);
    await createTopics(kafka, registry, 3);
    const relay = createRelay({
      connectionString: databaseUrl(),
      schema: db.schema,
      kafka,
      pollIntervalMs: 200,
      backoff: { initialMs: 100, maxMs: 2_000 },
      sendTimeoutMs: 3_000,
    });
    const pool = new pg.Pool({ ...schemaConnection(databaseUrl(), db.schema), max: 4 });
    const consumer = createConsumer({
      kafka,
      groupId: `test.outage-${id}`,
      registry,
      transaction: pgTransactions(pool),
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      handlers: {
        "ticket.created": (event, tx) => recordEffect(tx, event),
        "ticket.updated": (event, tx) => recordEffect(tx, event),
      },
    });
    await relay.start();
    await consumer.start();

    const publisher = ticketPublisher(registry);
    const aggregates = ["ticket-a", "ticket-b", "ticket-c", "ticket-d", "ticket-e"];
    let writes = 0;
    let writesDuringOutage = 0;
    let outage = false;
    let writing = true;
    // The service keeps changing state; a write is one transaction (state + outbox row).
    const writer = (async () => {
      for (let i = 0; writing; i += 1) {
        await pgTransaction(db.pool, (tx) =>
          changeTicket(tx, publisher, aggregates[i % aggregates.length] ?? ""),
        );
        writes += 1;
        if (outage) writesDuringOutage += 1;
        await sleep(50);
      }
    })();
    let sawDegraded = false;
    try {
      await waitFor("first events applied", async () => (await effectReport(db.pool)).total > 10);
      await down({ env, report: () => undefined });
      outage = true;
      const outageEnds = Date.now() + 20_000;
      while (Date.now() < outageEnds) {
        sawDegraded ||= relay.status().degraded;
        await sleep(250);
      }
      outage = false;
      await up({ env, only: ["kafka"], report: () => undefined });
      await sleep(2_000);
      writing = false;
      await writer;

      expect(writesDuringOutage).toBeGreaterThan(50);
      expect(sawDegraded).toBe(true);
      await waitFor(
        "every write applied",
        async () => (await effectReport(db.pool)).total >= writes,
        120_000,
        250,
      );
      const report = await effectReport(db.pool);
      expect(report.total).toBe(writes);
      expect(report.doubled).toBe(0);
      for (const a of aggregates) {
        const versions = report.sequences.get(a) ?? [];
        expect(versions).toEqual(versions.map((_, i) => i + 1));
      }
      expect(relay.status().degraded).toBe(false);
    } finally {
      writing = false;
      await writer.catch(() => undefined);
      await consumer.stop();
      await relay.stop();
      await pool.end();
    }
  });
});
