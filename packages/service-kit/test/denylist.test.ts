import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  ACKS_ALL,
  boxofficeRegistry,
  createEventProducer,
  createKafka,
  createPublisher,
  ensureTopics,
  envelopeHeaders,
  installEventTables,
  pgExecutor,
  pgTransactions,
  schemaConnection,
  topicSpecsFor,
  type MessageOutcome,
  type PgTransaction,
} from "@boxoffice/events";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionDenylist, REVOKED_SESSIONS_SCHEMA, type SessionDenylist } from "../src/denylist.ts";

const id = randomBytes(5).toString("hex");
const schema = `denylist_${id}`;
const registry = boxofficeRegistry.withTopics({
  user: `t${id}.accounts`,
  session: `t${id}.accounts`,
  ticket: `t${id}.tickets`,
  order: `t${id}.orders`,
  payment: `t${id}.payments`,
  "signing-key": `t${id}.signing-keys`,
});
const kafka = createKafka({
  clientId: "denylist-test",
  brokers: (process.env.KAFKA_BROKERS ?? "").split(","),
});
const producer = createEventProducer(kafka);
const publisher = createPublisher({ registry, producer: "accounts-test" });
const outcomes: MessageOutcome[] = [];
let pool: pg.Pool;
let denylist: SessionDenylist;

function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: the infra global setup did not run");
  return url;
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  try {
    await installEventTables(admin, schema, ["inbox"]);
    await admin.query(`SET search_path TO ${schema}`);
    await admin.query(await readFile(REVOKED_SESSIONS_SCHEMA.sql, "utf8"));
  } finally {
    await admin.end();
  }
  pool = new pg.Pool({ ...schemaConnection(databaseUrl(), schema), max: 5 });
  await ensureTopics(kafka, topicSpecsFor(registry, { partitions: 3, replicationFactor: 1 }));
  await producer.connect();
  denylist = createSessionDenylist<PgTransaction>({
    service: `denylist-test-${id}`,
    kafka,
    db: pgExecutor(pool),
    transaction: pgTransactions(pool),
    registry,
    cacheMaxEntries: 2,
    onOutcome: (outcome) => outcomes.push(outcome),
  });
  await denylist.start();
});

afterAll(async () => {
  await denylist?.stop();
  await producer.disconnect();
  await pool?.end();
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const topics = registry.topics().flatMap((t) => [t, `${t}.dlq`]);
  await kafkaAdmin.deleteTopics({ topics }).catch(() => undefined);
  await kafkaAdmin.disconnect();
});

function revokedEvent(sessionId: string, userId: string = randomUUID()) {
  return publisher.createEnvelope({
    type: "session.revoked",
    schemaVersion: 1,
    aggregateId: sessionId,
    aggregateVersion: 1,
    data: { sessionId, userId, revokedAt: new Date().toISOString() },
  });
}

async function produce(...events: Array<ReturnType<typeof revokedEvent>>): Promise<void> {
  await producer.send({
    topic: registry.topicFor("session"),
    acks: ACKS_ALL,
    messages: events.map((e) => ({
      key: e.aggregateId,
      value: JSON.stringify(e),
      headers: envelopeHeaders(e),
    })),
  });
}

/** Polls `check` every 10 ms until it holds or `deadlineMs` passes; returns the elapsed ms. */
async function waitUntil(check: () => Promise<boolean> | boolean, deadlineMs = 20_000): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > deadlineMs) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - start;
}

async function rows(sessionId: string): Promise<number> {
  const result = await pool.query("SELECT 1 FROM revoked_sessions WHERE session_id = $1", [sessionId]);
  return result.rowCount ?? 0;
}

describe("session denylist", () => {
  it("a session.revoked event makes isRevoked true; the same event delivered twice is one row", async () => {
    await waitUntil(() => denylist.status().ready);
    const sessionId = randomUUID();
    expect(await denylist.isRevoked(sessionId)).toBe(false);
    const event = revokedEvent(sessionId);
    await produce(event);
    const elapsed = await waitUntil(() => denylist.isRevoked(sessionId));
    console.log(`denylist: Kafka produce → isRevoked true in ${elapsed.toFixed(0)} ms`);
    await produce(event);
    await waitUntil(() => outcomes.some((o) => o.eventId === event.eventId && o.kind === "duplicate"));
    expect(await rows(sessionId)).toBe(1);
  });

  it("never caches 'not revoked': a row written directly is seen by the next call", async () => {
    const sessionId = randomUUID();
    expect(await denylist.isRevoked(sessionId)).toBe(false);
    await denylist.record(pgExecutor(pool), { sessionId, userId: randomUUID(), revokedAt: new Date() });
    expect(await denylist.isRevoked(sessionId)).toBe(true);
  });

  it("caches 'revoked' (bounded): a cached positive survives the row's deletion until evicted", async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    for (const sessionId of [a, b, c]) {
      await denylist.record(pgExecutor(pool), { sessionId, userId: randomUUID(), revokedAt: new Date() });
    }
    expect(await denylist.isRevoked(a)).toBe(true);
    await pool.query("DELETE FROM revoked_sessions WHERE session_id = $1", [a]);
    expect(await denylist.isRevoked(a)).toBe(true); // from the cache
    // Cache bound is 2 here: two other positives evict `a`, and the table no longer has it.
    expect(await denylist.isRevoked(b)).toBe(true);
    expect(await denylist.isRevoked(c)).toBe(true);
    expect(await denylist.isRevoked(a)).toBe(false);
  });

  it("record is idempotent; a session id that is not a UUID is refused (fail closed)", async () => {
    const sessionId = randomUUID();
    const revocation = { sessionId, userId: randomUUID(), revokedAt: new Date().toISOString() };
    expect(await denylist.record(pgExecutor(pool), revocation)).toBe(true);
    expect(await denylist.record(pgExecutor(pool), revocation)).toBe(false);
    expect(await denylist.isRevoked("session-1")).toBe(true);
  });

  it("dead-letters a session.revoked whose ids are not UUIDs instead of retrying it", async () => {
    const event = revokedEvent("not-a-uuid", "user-1");
    await produce(event);
    await waitUntil(() => outcomes.some((o) => o.eventId === event.eventId));
    expect(outcomes.find((o) => o.eventId === event.eventId)).toMatchObject({
      kind: "dead-lettered",
      attempts: 1,
    });
  });

  it("prune deletes revocations older than the given time", async () => {
    const old = randomUUID();
    await denylist.record(pgExecutor(pool), {
      sessionId: old,
      userId: randomUUID(),
      revokedAt: new Date(Date.now() - 2 * 86_400_000),
    });
    const deleted = await denylist.prune(new Date(Date.now() - 86_400_000));
    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(await rows(old)).toBe(0);
  });
});
