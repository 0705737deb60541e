/**
 * The event path on real PostgreSQL and Kafka, every figure from one run:
 *
 *   pnpm --filter @boxoffice/events bench
 *
 * 1. Relay drain: BENCH_EVENTS (20 000) events over 100 aggregates are committed to the outbox with
 *    no relay running; one relay drains them. Printed: events/s and where a batch's time goes
 *    (claim = find + lock + read rows, send = Kafka ack, mark = UPDATE + COMMIT).
 * 2. Consumer apply: two fresh groups read those events from the beginning, side by side: one
 *    transaction per message (the default) and one per run of up to 200 (`applyBatchSize`). The
 *    handler upserts a replica row with `applyIfNewer`. Printed: events/s each, ratio.
 * 3. Rebuild: `rebuildReadModel` into a fresh table (runs of 500). Printed: events/s.
 * 4. Commit → applied: writers commit one event per transaction at 200 and 1 000 events/s, then
 *    at rising rates (BENCH_MAX_RATES) while a relay and a consumer run; for each event, the time
 *    from the writer's COMMIT returning to the consumer's transaction committing, split at the
 *    Kafka record's timestamp (taken by the relay when it sends). Printed: p50/p99/max per rate,
 *    and the highest rate that was sustained (writers kept the rate, p99 ≤ 500 ms, nothing left
 *    behind a second after the last write).
 * Uses DATABASE_URL / KAFKA_BROKERS when set, else starts (or reuses) the local engines. The
 * machine's load is printed first: on a shared machine, compare figures from one run only.
 * Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT or TELEMETRY_TRACES_DIR is set (what tracing
 * costs: run once with and once without).
 */
import { loadavg } from "node:os";
import { up } from "@boxoffice/infra";
import { startTelemetry } from "@boxoffice/telemetry";
import pg from "pg";
import {
  applyIfNewer,
  createConsumer,
  createRelay,
  pgTransaction,
  pgTransactions,
  rebuildReadModel,
  schemaConnection,
  type BoxofficeEventDefinition,
  type EventOfType,
  type PgTransaction,
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
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const MAX_RATES = (process.env.BENCH_MAX_RATES ?? "2000,3000,5000")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const BATCH = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const rate = (events: number, millis: number) => Math.round((events * 1000) / millis);

const tracing = startTelemetry("events-bench");
const endpoints = await up({ report: () => undefined, only: ["postgres", "kafka"] });
process.env.DATABASE_URL = endpoints.databaseUrl;
process.env.KAFKA_BROKERS = endpoints.kafkaBrokers.join(",");

const id = uid();
const registry = testRegistry(id);
const kafka = testKafka("bench");
const db = await testSchema("bench");
await createTopics(kafka, registry, 6);
const publisher = ticketPublisher(registry);
const pool = new pg.Pool({ ...schemaConnection(endpoints.databaseUrl, db.schema), max: 12 });
const cleanups: Array<() => Promise<unknown>> = [];

type TicketEvent = EventOfType<BoxofficeEventDefinition, "ticket.created" | "ticket.updated">;
/** The realistic handler: a version-aware replica upsert into `table`. */
const replicaHandler = (table: string) => async (event: TicketEvent, tx: PgTransaction) => {
  await applyIfNewer(tx, {
    table,
    key: { id: event.aggregateId },
    version: event.aggregateVersion,
    values: { title: event.data.title, price_minor: event.data.priceMinor, status: event.data.status },
  });
};
const replicaTable = async (name: string) => {
  await db.pool.query(`CREATE TABLE ${name} (LIKE ticket_replica INCLUDING ALL)`);
  return name;
};
const handlersInto = (table: string) => ({
  "ticket.created": replicaHandler(table),
  "ticket.updated": replicaHandler(table),
});

console.log(
  `load average (1/5/15 min): ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ")}`,
);
console.log(`tracing: ${tracing ? "on" : "off"}`);
try {
  // 1. Relay drain.
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
  cleanups.push(() => relay.stop());
  const drainStart = performance.now();
  await relay.start();
  while (relay.status().publishedTotal < EVENTS) await sleep(5);
  const drainMs = performance.now() - drainStart;
  const t = relay.status().timings;
  console.log(
    `relay drain: ${EVENTS} events in ${(drainMs / 1000).toFixed(2)} s = ${rate(EVENTS, drainMs)} events/s ` +
      `(${t.batches} batches of ~${Math.round(EVENTS / t.batches)}; per batch: claim ${ms(t.claimMs / t.batches)}, ` +
      `send ${ms(t.sendMs / t.batches)}, mark ${ms(t.markMs / t.batches)}; ` +
      `outside batches ${ms((drainMs - t.claimMs - t.sendMs - t.markMs) / t.batches)})`,
  );

  // 2. Consumer apply rate, per-message vs runs, side by side (same topic, separate groups/tables).
  const applyRate = async (label: string, applyBatchSize: number) => {
    const table = await replicaTable(`apply_${applyBatchSize}`);
    const consumer = createConsumer({
      kafka,
      groupId: `bench.apply-${applyBatchSize}-${id}`,
      registry,
      transaction: pgTransactions(pool),
      partitionsConsumedConcurrently: 3,
      applyBatchSize,
      handlers: handlersInto(table),
    });
    await consumer.start();
    while (consumer.status().counts.applied === 0) await sleep(2);
    const started = performance.now();
    const first = consumer.status().counts.applied;
    const limit = started + 20_000;
    while (consumer.status().counts.applied < EVENTS && performance.now() < limit) await sleep(5);
    const elapsed = performance.now() - started;
    const status = consumer.status();
    await consumer.stop();
    const applied = status.counts.applied - first;
    const tm = status.timings;
    console.log(
      `consumer apply (${label}): ${applied} events in ${(elapsed / 1000).toFixed(2)} s = ${rate(applied, elapsed)} events/s ` +
        `(${tm.transactions} transactions, ${ms(tm.applyMs / Math.max(1, tm.transactions))} each; ` +
        `offset commits ${ms(tm.commitMs)} in all)`,
    );
    return rate(applied, elapsed);
  };
  const single = await applyRate("one transaction per message", 1);
  const batched = await applyRate(`runs of up to ${BATCH} per transaction`, BATCH);
  console.log(`  ratio runs / per-message: ${(batched / single).toFixed(1)}x`);

  // 3. Rebuild.
  const rebuildTable = "rebuild_replica";
  const rebuildStart = performance.now();
  const rebuilt = await rebuildReadModel({
    kafka,
    registry,
    groupId: `bench.rebuild-${id}`,
    transaction: pgTransactions(pool),
    partitionsConsumedConcurrently: 3,
    applyBatchSize: 500,
    prepare: async () => void (await replicaTable(rebuildTable)),
    handlers: handlersInto(rebuildTable),
  });
  const rebuildMs = performance.now() - rebuildStart;
  console.log(
    `rebuild: ${rebuilt.messages} events in ${(rebuildMs / 1000).toFixed(2)} s = ${rate(rebuilt.messages, rebuildMs)} events/s ` +
      `(join, catch-up and leave included)`,
  );

  // 4. Commit → applied at fixed rates.
  const committedAt = new Map<string, number>();
  const samples: Array<{ total: number; toSend: number }> = [];
  const latencyTable = await replicaTable("latency_replica");
  const consumer = createConsumer({
    kafka,
    groupId: `bench.latency-${id}`,
    registry,
    transaction: pgTransactions(pool),
    partitionsConsumedConcurrently: 3,
    applyBatchSize: BATCH,
    handlers: handlersInto(latencyTable),
    onOutcome: (o) => {
      const at = o.eventId ? committedAt.get(o.eventId) : undefined;
      if (at === undefined || o.kind !== "applied") return;
      const done = now();
      samples.push({ total: done - at, toSend: Number(o.timestamp) - at });
    },
  });
  cleanups.push(() => consumer.stop());
  await consumer.start();
  // Caught up with the drained backlog before measuring.
  while (consumer.status().counts.applied < EVENTS) await sleep(50);

  const writers = 8;
  const runAt = async (perSecond: number) => {
    samples.length = 0;
    committedAt.clear();
    const offered = Math.round(perSecond * SECONDS);
    let next = 0;
    let written = 0;
    const t0 = performance.now();
    // A machine that cannot write at this rate stops after 1.5× the planned time (not sustained).
    const stopAt = t0 + SECONDS * 1500;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (;;) {
          const i = next;
          next += 1;
          if (i >= offered || performance.now() > stopAt) return;
          const wait = t0 + (i * 1000) / perSecond - performance.now();
          if (wait > 0) await sleep(wait);
          const eventId = await pgTransaction(pool, async (tx) => {
            await changeTicket(tx, publisher, `latency-${i % 50}`);
            // currval() is volatile: compared directly with `id` it is evaluated per row, a sequential
            // scan of the whole outbox (50–300 ms per write past 20 000 rows, which throttled the
            // writers to 16 commits/s); as a scalar subquery it is evaluated once and the primary key
            // index is used.
            const rows = await tx.$queryRawUnsafe<Array<{ event_id: string }>>(
              "SELECT event_id::text FROM event_outbox WHERE id = (SELECT currval(pg_get_serial_sequence('event_outbox', 'id')))",
            );
            return rows[0]?.event_id ?? "";
          });
          committedAt.set(eventId, now());
          written += 1;
        }
      }),
    );
    const writeMs = performance.now() - t0;
    const total = written;
    const settleBy = performance.now() + 1_000;
    while (samples.length < total && performance.now() < settleBy) await sleep(10);
    const keptUp = samples.length === total;
    const drainBy = performance.now() + 10_000;
    while (samples.length < total && performance.now() < drainBy) await sleep(50);
    const totals = samples.map((s) => s.total).sort((a, b) => a - b);
    const toSend = samples.map((s) => s.toSend).sort((a, b) => a - b);
    const achieved = rate(total, writeMs);
    const p99 = percentile(totals, 0.99);
    const sustained = total === offered && achieved >= perSecond * 0.95 && keptUp && p99 <= 500;
    console.log(
      `commit → applied at ${perSecond} events/s for ${SECONDS} s (wrote ${total}/${offered} at ${achieved}/s, ${samples.length}/${total} applied): ` +
        `p50 ${ms(percentile(totals, 0.5))}, p99 ${ms(p99)}, max ${ms(totals.at(-1) ?? NaN)}` +
        ` | commit → sent p50 ${ms(percentile(toSend, 0.5))}, p99 ${ms(percentile(toSend, 0.99))}` +
        `${sustained ? "" : "  [not sustained]"}`,
    );
    return sustained;
  };
  // The highest rate of the rising steps that was sustained; a step that is not ends the climb.
  const steps = [200, 1000, ...MAX_RATES];
  let highest = 0;
  for (const r of steps) {
    const sustained = await runAt(r);
    if (sustained) highest = r;
    else if (r >= 1000) break;
  }
  console.log(
    `highest sustained rate tried: ${highest > 0 ? `${highest} events/s` : "none"} (steps: ${steps.join(", ")})`,
  );
  console.log(
    `load average (1/5/15 min): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" / ")}`,
  );
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await pool.end();
  await db.drop();
  await deleteTopics(kafka, registry);
}
