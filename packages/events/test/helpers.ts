/**
 * Test helpers: isolated PostgreSQL schemas, unique topics, a tiny "tickets" service that writes
 * state + outbox in one transaction, and a consumer-side effect log that exposes lost, doubled or
 * reordered deliveries.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { logLevel, type Kafka } from "kafkajs";
import pg from "pg";
import {
  createKafka,
  createPublisher,
  ensureTopics,
  installEventTables,
  pgTransaction,
  schemaConnection,
  topicSpecsFor,
  type BoxofficeEventDefinition,
  type EventRegistry,
  type Publisher,
  type SqlExecutor,
} from "../src/index.ts";
import { testRegistry as prefixedRegistry } from "../src/testing.ts";

export const PACKAGE_DIR = path.resolve(import.meta.dirname, "..");

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: the infra global setup did not run");
  return url;
}

export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error("KAFKA_BROKERS is not set: the infra global setup did not run");
  return brokers.split(",");
}

/** A short random lower-case id for schema, topic and group names. */
export function uid(): string {
  return randomBytes(5).toString("hex");
}

export function testKafka(clientId = "events-test", brokers = kafkaBrokers()): Kafka {
  // kafkajs' own logs stay silent in tests ("coordinator is loading" retries are expected).
  return createKafka({ clientId, brokers, logLevel: logLevel.NOTHING });
}

/** The Boxoffice registry with topics unique to one test: `t<id>.<production topic>` (`testRegistry` of ../src/testing.ts). */
export function testRegistry(id: string): EventRegistry<BoxofficeEventDefinition> {
  return prefixedRegistry(`t${id}`);
}

export interface TestSchema {
  schema: string;
  /** Pool whose connections have search_path = schema. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A fresh schema with the outbox and inbox (from sql/*.sql), the producer's `ticket` table and the
 * consumer's `effect` log and `ticket_replica` table.
 */
export async function testSchema(prefix = "ev"): Promise<TestSchema> {
  const schema = `${prefix}_${uid()}`;
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  try {
    await installEventTables(admin, schema);
    await admin.query(`
      CREATE TABLE ${schema}.ticket (
        id text PRIMARY KEY, title text NOT NULL, price_minor integer NOT NULL, currency text NOT NULL,
        seller_id text NOT NULL, status text NOT NULL, version integer NOT NULL);
      CREATE TABLE ${schema}.effect (
        seq bigserial PRIMARY KEY, event_id uuid NOT NULL, aggregate_id text NOT NULL,
        aggregate_version integer NOT NULL, consumer text);
      CREATE TABLE ${schema}.ticket_replica (
        id text PRIMARY KEY, title text NOT NULL, price_minor integer NOT NULL, status text NOT NULL,
        version integer NOT NULL);`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({ ...schemaConnection(databaseUrl(), schema), max: 10 });
  return {
    schema,
    pool,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: databaseUrl() });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

/** Creates the registry's topics (+ .dlq) with `partitions` partitions. */
export async function createTopics(
  kafka: Kafka,
  registry: EventRegistry<BoxofficeEventDefinition>,
  partitions = 3,
): Promise<void> {
  await ensureTopics(kafka, topicSpecsFor(registry, { partitions, replicationFactor: 1 }));
}

export async function deleteTopics(kafka: Kafka, registry: EventRegistry<BoxofficeEventDefinition>) {
  const admin = kafka.admin();
  await admin.connect();
  const topics = registry.topics().flatMap((t) => [t, `${t}.dlq`]);
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

export function ticketPublisher(registry: EventRegistry<BoxofficeEventDefinition>) {
  return createPublisher({ registry, producer: "tickets-test" });
}

/**
 * The producer's state change + event in one transaction: bump the ticket's version (create it at
 * version 1) and publish ticket.created / ticket.updated with the new state.
 */
export async function changeTicket(
  tx: SqlExecutor,
  publisher: Publisher<BoxofficeEventDefinition>,
  ticketId: string,
): Promise<number> {
  const rows = await tx.$queryRawUnsafe<Array<{ version: number; title: string }>>(
    `INSERT INTO ticket (id, title, price_minor, currency, seller_id, status, version)
     VALUES ($1, 'Concert', 1000, 'EUR', 'seller-1', 'AVAILABLE', 1)
     ON CONFLICT (id) DO UPDATE SET version = ticket.version + 1, price_minor = ticket.price_minor + 1
     RETURNING version, title`,
    ticketId,
  );
  const version = rows[0]?.version ?? 0;
  await publisher.publish(tx, {
    type: version === 1 ? "ticket.created" : "ticket.updated",
    schemaVersion: 1,
    aggregateId: ticketId,
    aggregateVersion: version,
    data: {
      ticketId,
      title: `Concert ${version}`,
      priceMinor: 1000 + version,
      currency: "EUR",
      sellerId: "seller-1",
      status: "AVAILABLE",
      version,
    },
  });
  return version;
}

/**
 * Writes `perAggregate` changes to each aggregate, aggregates in parallel (bounded by the pool),
 * each change its own committed transaction.
 */
export async function writeChanges(
  pool: pg.Pool,
  publisher: Publisher<BoxofficeEventDefinition>,
  aggregates: string[],
  perAggregate: number,
): Promise<void> {
  await Promise.all(
    aggregates.map(async (id) => {
      for (let i = 0; i < perAggregate; i += 1) {
        await pgTransaction(pool, (tx) => changeTicket(tx, publisher, id));
      }
    }),
  );
}

/** The consumer-side effect: one row per handler run (no unique key, so doubles would show). */
export async function recordEffect(
  tx: SqlExecutor,
  event: { eventId: string; aggregateId: string; aggregateVersion: number },
  consumer = "",
): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO effect (event_id, aggregate_id, aggregate_version, consumer) VALUES ($1::uuid, $2, $3, $4)`,
    event.eventId,
    event.aggregateId,
    event.aggregateVersion,
    consumer,
  );
}

export interface EffectReport {
  total: number;
  distinctEvents: number;
  /** Events applied more than once. */
  doubled: number;
  /** aggregate id → versions in the order they were applied. */
  sequences: Map<string, number[]>;
}

export async function effectReport(pool: pg.Pool): Promise<EffectReport> {
  const rows = await pool.query<{ event_id: string; aggregate_id: string; aggregate_version: number }>(
    `SELECT event_id, aggregate_id, aggregate_version FROM effect ORDER BY seq`,
  );
  const sequences = new Map<string, number[]>();
  const seen = new Map<string, number>();
  for (const r of rows.rows) {
    sequences.set(r.aggregate_id, [...(sequences.get(r.aggregate_id) ?? []), r.aggregate_version]);
    seen.set(r.event_id, (seen.get(r.event_id) ?? 0) + 1);
  }
  return {
    total: rows.rows.length,
    distinctEvents: seen.size,
    doubled: [...seen.values()].filter((n) => n > 1).length,
    sequences,
  };
}

/** 1..n */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Polls `check` every `intervalMs` until it returns true, or throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function count(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<number> {
  const result = await pool.query<{ n: number }>(`SELECT (${sql})::int AS n`, params);
  return result.rows[0]?.n ?? 0;
}

/** Sum over partitions of the group's committed offsets (−1/unset counts as 0). */
export async function committedTotal(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Total messages in a topic (sum of high watermarks). */
export async function topicSize(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

export interface Fixture {
  child: ChildProcess;
  /** Resolves when the child prints `ready`. */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** Runs test/fixtures/<name>.ts in a child Node process (tsx loader) with extra env. */
export function spawnFixture(name: string, env: Record<string, string>): Fixture {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(PACKAGE_DIR, "test/fixtures", `${name}.ts`)],
    {
      cwd: PACKAGE_DIR,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes("ready\n")) markReady();
  });
  child.stderr?.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, ready, exited, output: () => out };
}

/** Runs the `boxoffice-events` CLI (bin/boxoffice-events.js) in a child process. */
export async function runCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [path.join(PACKAGE_DIR, "bin/boxoffice-events.js"), "--brokers", kafkaBrokers().join(","), ...args],
    { cwd: PACKAGE_DIR, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return { code, stdout, stderr };
}
