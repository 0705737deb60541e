/**
 * Relay throughput and commit-to-applied latency, on real PostgreSQL and Kafka.
 *
 *   pnpm --filter @boxoffice/events bench            (BENCH_EVENTS, BENCH_RATE, BENCH_SECONDS to tune)
 *
 * 1. Throughput: BENCH_EVENTS (20 000) events over 100 aggregates are committed to the outbox with
 *    no relay running; one relay then drains it. Printed: events/s from relay start to the last mark.
 * 2. Latency: a writer commits one event per transaction at BENCH_RATE (200/s) for BENCH_SECONDS
 *    (15 s) while a relay and a consumer run; for each event, the time from the producer's COMMIT
 *    returning to the consumer's transaction committing. Printed: p50, p99, max in ms.
 * Uses DATABASE_URL / KAFKA_BROKERS when set, else starts (or reuses) the local engines.
 */
import { up } from "@boxoffice/infra";
import pg from "pg";
import {
  createConsumer,
  createRelay,
  pgTransaction,
  pgTransactions,
  schemaConnection,
} from "../src/index.ts";
import {
  changeTicket,
  createTopics,
  deleteTopics,
  testKafka,
  testRegistry,
  testSchema,
  ticketPublisher,
  uid,
} from "../test/helpers.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

const endpoints = await up({ report: () => undefined, only: ["postgres", "kafka"] });
process.env.DATABASE_URL = endpoints.databaseUrl;
process.env.KAFKA_BROKERS = endpoints.kafkaBrokers.join(",");

const id = uid();
const registry = testRegistry(id);
const kafka = testKafka("bench");
const db = await testSchema("bench");
await createTopics(kafka, registry, 6);
const publisher = ticketPublisher(registry);

try {
  // 1. Throughput.
  const aggregates = Array.from({ length: 100 }, (_, i) => `ticket-${i}`);
  const perTx = 50;
  await Promise.all(
    Array.from({ length: 4 }, async (_, worker) => {
      for (let n = worker * perTx; n < EVENTS; n += 4 * perTx) {
        await pgTransaction(db.pool, async (tx) => {
          for (let i = n; i < Math.min(n + perTx, EVENTS); i += 1) {
            await changeTicket(tx, publisher, aggregates[i % aggregates.length] ?? "");
          }
        });
      }
    }),
  );
  const relay = createRelay({ connectionString: endpoints.databaseUrl, schema: db.schema, kafka });
  const started = performance.now();
  await relay.start();
  while (relay.status().publishedTotal < EVENTS) await sleep(5);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `relay throughput: ${EVENTS} events in ${seconds.toFixed(2)} s = ${Math.round(EVENTS / seconds)} events/s`,
  );

  // 2. Latency at a fixed rate.
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  const pool = new pg.Pool({ ...schemaConnection(endpoints.databaseUrl, db.schema), max: 4 });
  const consumer = createConsumer({
    kafka,
    groupId: `bench.latency-${id}`,
    registry,
    transaction: pgTransactions(pool),
    partitionsConsumedConcurrently: 3,
    fromBeginning: false,
    handlers: { "ticket.updated": () => Promise.resolve(), "ticket.created": () => Promise.resolve() },
    onOutcome: (o) => {
      const at = o.eventId ? committedAt.get(o.eventId) : undefined;
      if (at !== undefined && o.kind === "applied") latencies.push(performance.now() - at);
    },
  });
  await consumer.start();
  while (!consumer.status().ready) await sleep(50);
  await sleep(1_000);
  const total = RATE * SECONDS;
  const t0 = performance.now();
  for (let i = 0; i < total; i += 1) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const event = await pgTransaction(db.pool, async (tx) => {
      await changeTicket(tx, publisher, `latency-${i % 20}`);
      const rows = await tx.$queryRawUnsafe<Array<{ event_id: string }>>(
        "SELECT event_id::text FROM event_outbox ORDER BY id DESC LIMIT 1",
      );
      return rows[0]?.event_id ?? "";
    });
    committedAt.set(event, performance.now());
  }
  const deadline = performance.now() + 60_000;
  while (latencies.length < total && performance.now() < deadline) await sleep(50);
  latencies.sort((a, b) => a - b);
  console.log(
    `commit-to-applied latency at ${RATE} events/s for ${SECONDS} s (${latencies.length}/${total} applied): ` +
      `p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms, ` +
      `max ${(latencies.at(-1) ?? NaN).toFixed(1)} ms`,
  );
  await consumer.stop();
  await relay.stop();
  await pool.end();
} finally {
  await db.drop();
  await deleteTopics(kafka, registry);
}
