import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { generateSigningKey, type SigningKey } from "@boxoffice/auth-verify";
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
import { createSigningKeyReplica, SIGNING_KEYS_SCHEMA, type SigningKeyReplica } from "../src/signing-keys.ts";

const id = randomBytes(5).toString("hex");
const schema = `signing_keys_${id}`;
const registry = boxofficeRegistry.withTopics({
  user: `t${id}.accounts`,
  session: `t${id}.accounts`,
  ticket: `t${id}.tickets`,
  order: `t${id}.orders`,
  payment: `t${id}.payments`,
  "signing-key": `t${id}.signing-keys`,
});
const kafka = createKafka({
  clientId: "signing-keys-test",
  brokers: (process.env.KAFKA_BROKERS ?? "").split(","),
});
const producer = createEventProducer(kafka);
const publisher = createPublisher({ registry, producer: "accounts-test" });
const outcomes: MessageOutcome[] = [];
let pool: pg.Pool;
let replica: SigningKeyReplica;
/**
 * A second replica of the same service (another process in production): same table, same consumer
 * group, so each event reaches only one of the two and the other learns it from the table.
 */
let sibling: SigningKeyReplica;

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
    await admin.query(await readFile(SIGNING_KEYS_SCHEMA.sql, "utf8"));
  } finally {
    await admin.end();
  }
  pool = new pg.Pool({ ...schemaConnection(databaseUrl(), schema), max: 5 });
  await ensureTopics(kafka, topicSpecsFor(registry, { partitions: 3, replicationFactor: 1 }));
  await producer.connect();
  const common = { kafka, db: pgExecutor(pool), transaction: pgTransactions(pool), registry };
  const service = `signing-keys-test-${id}`;
  const onOutcome = (outcome: MessageOutcome) => outcomes.push(outcome);
  replica = createSigningKeyReplica<PgTransaction>({ ...common, service, onOutcome });
  sibling = createSigningKeyReplica<PgTransaction>({ ...common, service, onOutcome });
  await Promise.all([replica.start(), sibling.start()]);
});

afterAll(async () => {
  await Promise.all([replica?.stop(), sibling?.stop()]);
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

const PUBLISHED_AT = "2026-12-02T10:00:00.000Z";

/** The public JWK as the contract types it (jose's JWK type has every member optional). */
const publicJwkOf = (key: SigningKey) => ({ ...key.publicJwk, kty: "OKP" as const, kid: key.kid });

function published(key: SigningKey) {
  return publisher.createEnvelope({
    type: "signing-key.published",
    schemaVersion: 1,
    aggregateId: key.kid,
    aggregateVersion: 1,
    data: { kid: key.kid, publicJwk: publicJwkOf(key), status: "PUBLISHED", publishedAt: PUBLISHED_AT },
  });
}

function retired(key: SigningKey) {
  return publisher.createEnvelope({
    type: "signing-key.retired",
    schemaVersion: 1,
    aggregateId: key.kid,
    aggregateVersion: 2,
    data: {
      kid: key.kid,
      publicJwk: publicJwkOf(key),
      status: "RETIRED",
      publishedAt: PUBLISHED_AT,
      retiredAt: new Date().toISOString(),
    },
  });
}

async function produce(
  ...events: Array<ReturnType<typeof published> | ReturnType<typeof retired>>
): Promise<void> {
  await producer.send({
    topic: registry.topicFor("signing-key"),
    acks: ACKS_ALL,
    messages: events.map((e) => ({
      key: e.aggregateId,
      value: JSON.stringify(e),
      headers: envelopeHeaders(e),
    })),
  });
}

/** Polls `check` every 10 ms until it holds or `deadlineMs` passes; returns the elapsed ms. */
async function waitUntil(check: () => boolean | Promise<boolean>, deadlineMs = 20_000): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > deadlineMs) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - start;
}

async function rowOf(kid: string) {
  const { rows } = await pool.query<{ status: string; version: number }>(
    "SELECT status, version FROM signing_keys WHERE kid = $1",
    [kid],
  );
  return rows;
}

const settled = (eventId: string, kind: MessageOutcome["kind"]) => () =>
  outcomes.some((o) => o.eventId === eventId && o.kind === kind);

describe("signing-key replica", () => {
  it("signing-key.published puts the key in the table and the key set; delivered twice, it is one row", async () => {
    await waitUntil(() => replica.status().ready && sibling.status().ready);
    const key = await generateSigningKey();
    const event = published(key);
    await produce(event);
    await waitUntil(() => replica.keyStore.has(key.kid));
    await produce(event);
    await waitUntil(settled(event.eventId, "duplicate"));
    expect(await rowOf(key.kid)).toEqual([{ status: "PUBLISHED", version: 1 }]);
  });

  it("signing-key.retired removes the key from both replicas of the service, whichever consumed it", async () => {
    const key = await generateSigningKey();
    await produce(published(key));
    await waitUntil(() => replica.keyStore.has(key.kid) && sibling.keyStore.has(key.kid));
    const event = retired(key);
    const sentAt = performance.now();
    await produce(event);
    const elapsed = await Promise.all(
      [replica, sibling].map(async (r) => {
        await waitUntil(() => r.keyStore.isRetired(key.kid));
        return (performance.now() - sentAt).toFixed(0);
      }),
    );
    console.log(
      `signing keys: retirement produced → refused by both replicas after ${elapsed.join(" / ")} ms`,
    );
    expect([replica.keyStore.has(key.kid), sibling.keyStore.has(key.kid)]).toEqual([false, false]);
    expect(await rowOf(key.kid)).toEqual([{ status: "RETIRED", version: 2 }]);
  });

  it("out of order: a published delivered after the retired never revives the key", async () => {
    const key = await generateSigningKey();
    const late = published(key);
    await produce(retired(key), late);
    await waitUntil(settled(late.eventId, "applied"));
    expect(await rowOf(key.kid)).toEqual([{ status: "RETIRED", version: 2 }]);
    await replica.refresh();
    expect([replica.keyStore.has(key.kid), replica.keyStore.isRetired(key.kid)]).toEqual([false, true]);
  });

  it("a restarted service verifies from its table before it has consumed anything", async () => {
    const key = await generateSigningKey();
    await produce(published(key));
    await waitUntil(() => replica.keyStore.has(key.kid));
    // A fresh process: an empty key set until start() reads the table (Kafka need not deliver again).
    const restarted = createSigningKeyReplica<PgTransaction>({
      kafka,
      db: pgExecutor(pool),
      transaction: pgTransactions(pool),
      registry,
      service: `restarted-${id}`,
    });
    expect(restarted.keyStore.size()).toBe(0);
    await restarted.refresh();
    expect(restarted.keyStore.has(key.kid)).toBe(true);
  });
});
