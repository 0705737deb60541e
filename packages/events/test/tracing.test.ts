/**
 * Tracing through the event path, in one process with tracing on (a span file, read back): an event
 * published inside a request's span is sent by the relay inside a PRODUCER span of that request's
 * trace, and consumed inside a CONSUMER span under it — one message per transaction or a run per
 * transaction (`applyBatchSize`); the relay batch and the consumer run are spans of their own, linked
 * to every trace they carried. The events project's files share a worker (`isolate: false`): this
 * file starts telemetry at import and shuts it down in `afterAll`, after which tracing is off for the
 * files that follow. It must stay the only file of the project that starts telemetry (or calls
 * service-kit's `createLogger`, which does): `startTelemetry` ignores every call after the first.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  currentTraceparent,
  inSpan,
  shutdownTelemetry,
  SpanKind,
  startTelemetry,
} from "@boxoffice/telemetry";
import { readSpans, type SpanRecord } from "@boxoffice/telemetry/spans";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConsumer, createRelay, pgTransaction, pgTransactions } from "../src/index.ts";
import { changeTicket, databaseUrl, recordEffect, ticketPublisher, waitFor } from "./helpers.ts";
import { useEventsBed } from "./bed.ts";

const dir = await mkdtemp(path.join(tmpdir(), "events-tracing-"));
startTelemetry("events-test", { TELEMETRY_TRACES_DIR: dir });

describe("tracing through outbox, relay and consumers", () => {
  // // One partition: the consumers see the three events in one fetch, so the batch path gets a run.
  const bed = useEventsBed(1);
  const { id, registry, kafka } = bed;
  const topic = registry.topicFor("ticket");
  let pool: pg.Pool;
  /** traceparent of each "request" that published an event. */
  const requests: string[] = [];

  beforeAll(async () => {
    pool = new pg.Pool({
      connectionString: databaseUrl(),
      options: `-c search_path=${bed.db.schema}`,
      max: 4,
    });
    const publisher = ticketPublisher(registry);
    for (const ticket of ["ticket-a", "ticket-b", "ticket-c"]) {
      await inSpan("request", { kind: SpanKind.SERVER }, async () => {
        requests.push(currentTraceparent()!);
        await pgTransaction(bed.db.pool, (tx) => changeTicket(tx, publisher, ticket));
      });
    }
  });
  afterAll(async () => {
    await pool.end();
    await shutdownTelemetry();
    await rm(dir, { recursive: true, force: true });
  });

  it("one trace per published event: request → relay send → consumer, with links from the batches", async () => {
    const relay = createRelay({
      connectionString: databaseUrl(),
      schema: bed.db.schema,
      kafka,
      pollIntervalMs: 200,
    });
    const consumers = [1, 10].map((applyBatchSize) =>
      createConsumer({
        kafka,
        groupId: `test.tracing-${applyBatchSize}-${id}`,
        registry,
        transaction: pgTransactions(pool),
        applyBatchSize,
        handlers: { "ticket.created": (event, tx) => recordEffect(tx, event, String(applyBatchSize)) },
      }),
    );
    await relay.start();
    for (const consumer of consumers) await consumer.start();
    try {
      await waitFor(
        "both groups applied the three events",
        () => consumers.every((c) => c.status().counts.applied === 3),
        60_000,
      );
    } finally {
      for (const consumer of consumers) await consumer.stop();
      await relay.stop();
    }

    const spans = await readSpans(dir);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: SpanRecord) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const traceIds = requests.map((tp) => tp.split("-")[1]!);
    expect(new Set(traceIds).size).toBe(3);
    for (const [i, traceId] of traceIds.entries()) {
      const request = spans.find((s) => s.traceId === traceId && s.name === "request")!;
      expect(request.spanId).toBe(requests[i]!.split("-")[2]);
      const sends = spans.filter((s) => s.traceId === traceId && s.kind === 3);
      expect(sends.map((s) => [s.name, parentOf(s)?.spanId])).toEqual([[`publish ${topic}`, request.spanId]]);
      const processed = spans.filter((s) => s.traceId === traceId && s.kind === 4);
      // One span per group, each a child of the relay's send; the messages' own trace continues.
      expect(processed.map((s) => s.attributes["messaging.consumer.group.name"]).sort()).toEqual(
        [`test.tracing-1-${id}`, `test.tracing-10-${id}`].sort(),
      );
      for (const span of processed) {
        expect(span.name).toBe(`process ${topic}`);
        expect(span.parentSpanId).toBe(sends[0]!.spanId);
        expect(span.attributes["boxoffice.event_type"]).toBe("ticket.created");
      }
    }
    const linked = (name: string) =>
      new Set(spans.filter((s) => s.name === name).flatMap((s) => s.links.map((l) => l.traceId)));
    expect([...linked("outbox relay batch")].filter((t) => traceIds.includes(t)).sort()).toEqual(
      [...traceIds].sort(),
    );
    expect([...linked(`process batch ${topic}`)].filter((t) => traceIds.includes(t)).sort()).toEqual(
      [...traceIds].sort(),
    );
  });
});
