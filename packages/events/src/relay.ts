/**
 * The outbox relay: moves committed outbox rows to Kafka, one service schema per relay.
 *
 * Why it is correct:
 * - At least once: a row is marked published only in the same PostgreSQL transaction that claimed
 *   it, after Kafka acknowledged it with acks=all. A crash before the mark re-sends the row later
 *   (a duplicate the consumers' inbox absorbs); a crash before the send loses nothing.
 * - Per-aggregate order, even with several relay replicas: a relay takes a transaction-scoped
 *   advisory lock per aggregate (`pg_try_advisory_xact_lock`) before reading that aggregate's
 *   unpublished rows, and reads them in `aggregate_version` order. Another replica skips an
 *   aggregate whose lock is held, instead of `SKIP LOCKED`-ing past its first row and publishing a
 *   later one first. The lock is released at COMMIT, after the published marks are visible, and the
 *   rows are re-read after locking, so the next holder starts exactly after the last published
 *   version. Ordering by version rather than by the bigserial id matters because ids are assigned
 *   at INSERT, not at COMMIT; versions are assigned under the aggregate's own row lock in the
 *   service, so version order is commit order per aggregate.
 * - In Kafka, the aggregate id is the key (one partition per aggregate) and the producer is
 *   idempotent with one request in flight, so a partition receives the rows in the order sent.
 *   Every failure tears the producer down and retries with backoff, so broker-side sequence state
 *   can never wedge it.
 * - Wake-up: LISTEN on `boxoffice_event_outbox` (the outbox trigger NOTIFYs at commit) with a
 *   polling fallback, so a lost notification or a broken listener costs at most one poll interval.
 *
 * Tracing (when on): each row is sent inside a PRODUCER span whose parent is the `traceparent`
 * stored with the event, so the send belongs to the trace of the request that caused it, and that
 * span's `traceparent` replaces the stored one in the Kafka headers; the batch is one more span,
 * linked to every trace it carries. Metrics: `boxoffice_relay_published_total`,
 * `boxoffice_relay_failed_batches_total`, and at scrape time the backlog and the age of the oldest
 * unpublished row.
 */
import {
  contextOf,
  failSpan,
  linkTo,
  relayFailures,
  relayPublished,
  SpanKind,
  traceparentOf,
  tracer,
  tracingEnabled,
  watchOutbox,
  type Span,
} from "@boxoffice/telemetry";
import { ROOT_CONTEXT, trace, type Link } from "@opentelemetry/api";
import type { Kafka, Message, Producer } from "kafkajs";
import pg from "pg";
import { FaultInjector, type FaultInjection } from "./fault.ts";
import { ACKS_ALL, createEventProducer } from "./kafka.ts";
import { errorMessage, silentLogger, type EventsLogger } from "./logger.ts";
import { quoteIdentifier, schemaConnection } from "./sql.ts";

/** The NOTIFY channel of sql/outbox.sql's trigger; the payload is the schema name. */
export const OUTBOX_CHANNEL = "boxoffice_event_outbox";

export interface RelayOptions {
  /** PostgreSQL URL of the service database. */
  connectionString: string;
  /** The service's schema holding `event_outbox`. */
  schema: string;
  kafka: Kafka;
  /** Max rows per Kafka request / PostgreSQL transaction (default 500). */
  batchSize?: number;
  /** Max aggregates locked per batch (default 200). */
  maxAggregatesPerBatch?: number;
  /** Polling fallback when no NOTIFY arrives, ms (default 1000). */
  pollIntervalMs?: number;
  /** Backoff after a failed batch: initial and cap, ms (default 100 and 5000, doubling). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Published rows older than this are deleted, ms (default 7 days). */
  retentionMs?: number;
  /** How often pruning runs, ms (default 60 000). */
  pruneIntervalMs?: number;
  /** How long one batch may wait for Kafka's acknowledgement, ms (default 10 000). */
  sendTimeoutMs?: number;
  logger?: EventsLogger;
  /** Test-only: crash at a named point (see fault.ts). */
  faultInjection?: FaultInjection;
}

/** For `/readyz` and dashboards. Times are ISO-8601. */
export interface RelayStatus {
  state: "idle" | "running" | "stopping" | "stopped";
  /** True while running; a broker outage does not make the relay unready, it makes it `degraded`. */
  ready: boolean;
  /** True while the last batch failed: the broker (or the database) is not accepting batches. */
  degraded: boolean;
  /** Whether LISTEN is connected (polling continues either way). */
  listening: boolean;
  publishedTotal: number;
  consecutiveFailures: number;
  lastPublishedAt?: string;
  lastError?: string;
  /**
   * Where the time went since start, cumulative, in ms (wall clock, so waiting counts): `claimMs`
   * finding, locking and reading rows; `sendMs` waiting for Kafka's acknowledgement; `markMs` the
   * published marks and COMMIT. `batches` counts batches that published at least one row. For
   * dashboards and the benchmark's breakdown.
   */
  timings: { batches: number; claimMs: number; sendMs: number; markMs: number };
}

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  payload: string;
  headers: Record<string, string>;
}

/**
 * The relay for one service schema. `start()` begins the loop; `stop()` finishes the batch in
 * flight and closes every connection.
 */
export class OutboxRelay {
  private readonly pool: pg.Pool;
  private readonly logger: EventsLogger;
  private readonly fault: FaultInjector;
  private readonly batchSize: number;
  private readonly maxAggregates: number;
  private readonly pollIntervalMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly retentionMs: number;
  private readonly pruneIntervalMs: number;
  private readonly sendTimeoutMs: number;
  private producer: Producer | undefined;
  private listener: pg.Client | undefined;
  private loopDone: Promise<void> | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private listenerRetry: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private woken = false;
  private unwatch: (() => void) | undefined;
  private current: RelayStatus = {
    state: "idle",
    ready: false,
    degraded: false,
    listening: false,
    publishedTotal: 0,
    consecutiveFailures: 0,
    timings: { batches: 0, claimMs: 0, sendMs: 0, markMs: 0 },
  };

  constructor(private readonly options: RelayOptions) {
    quoteIdentifier(options.schema);
    this.pool = new pg.Pool({ ...schemaConnection(options.connectionString, options.schema), max: 2 });
    // An idle pooled connection that dies (database restart) must not crash the process.
    this.pool.on("error", (error) =>
      this.logger.warn("relay: idle connection error", { error: error.message }),
    );
    this.logger = options.logger ?? silentLogger;
    this.fault = new FaultInjector(options.faultInjection);
    this.batchSize = options.batchSize ?? 500;
    this.maxAggregates = options.maxAggregatesPerBatch ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.backoffInitialMs = options.backoff?.initialMs ?? 100;
    this.backoffMaxMs = options.backoff?.maxMs ?? 5_000;
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3600 * 1000;
    this.pruneIntervalMs = options.pruneIntervalMs ?? 60_000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
  }

  /** A snapshot of the relay's health. */
  status(): RelayStatus {
    return { ...this.current, timings: { ...this.current.timings } };
  }

  /**
   * Starts listening and relaying. Resolves once the loop runs; it does not wait for Kafka (rows
   * wait in the outbox while the broker is away).
   *
   * @throws Error when called twice.
   */
  async start(): Promise<void> {
    if (this.current.state !== "idle") throw new Error(`relay already ${this.current.state}`);
    this.current.state = "running";
    this.current.ready = true;
    await this.connectListener();
    this.unwatch = watchOutbox({ schema: this.options.schema, read: () => this.backlog() });
    this.pruneTimer = setInterval(() => void this.prune(), this.pruneIntervalMs);
    this.pruneTimer.unref();
    this.loopDone = this.loop();
  }

  /**
   * Stops within `deadlineMs` (default 10 000): finishes the batch in flight (so its rows are either
   * marked published or left for the next relay), then closes Kafka and PostgreSQL connections.
   * Resolves `{ timedOut: true }` if the batch did not finish in time; its rows stay unpublished
   * or are re-sent later — never lost.
   */
  async stop(deadlineMs = 10_000): Promise<{ timedOut: boolean }> {
    if (this.current.state === "stopped" || this.current.state === "idle") {
      this.current.state = "stopped";
      return { timedOut: false };
    }
    this.current.state = "stopping";
    this.current.ready = false;
    this.unwatch?.();
    this.signal();
    clearInterval(this.pruneTimer);
    clearTimeout(this.listenerRetry);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      (this.loopDone ?? Promise.resolve()).then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
    this.current.listening = false;
    await this.pool.end().catch(() => undefined);
    this.current.state = "stopped";
    return { timedOut };
  }

  /**
   * Relays one batch: locks up to `maxAggregatesPerBatch` aggregates that have unpublished rows,
   * sends up to `batchSize` of their rows in version order, marks them published after the ack.
   *
   * @returns the number of rows published (0 when there was nothing this relay could take).
   * @throws the Kafka or PostgreSQL error; nothing is marked published then.
   */
  async relayBatch(): Promise<number> {
    const client = await this.pool.connect();
    let broken = false;
    let claimed: string[] = [];
    const started = performance.now();
    try {
      await client.query("BEGIN");
      // The oldest `batchSize` pending rows (the partial index event_outbox_pending_idx makes this
      // a short index scan however many published rows are kept), grouped by aggregate, oldest
      // first so no aggregate starves; each aggregate is locked in the same statement (another
      // replica skips an aggregate this one holds). Lock space = hash of the schema, so services
      // sharing a database never contend. The subquery is a fence (OFFSET 0): locks are tried only
      // on the heads it returns.
      const locked = await client.query<{ ids: string[] }>(
        `SELECT h.ids::text[] AS ids FROM (
           SELECT aggregate_type AS t, aggregate_id AS i, array_agg(id) AS ids FROM (
             SELECT aggregate_type, aggregate_id, id FROM event_outbox WHERE published_at IS NULL
             ORDER BY id LIMIT $1) pending
           GROUP BY aggregate_type, aggregate_id ORDER BY min(id) LIMIT $2 OFFSET 0) h
         WHERE pg_try_advisory_xact_lock(hashtext('${OUTBOX_CHANNEL}:' || current_schema()), hashtext(h.t || ':' || h.i))`,
        [this.batchSize, this.maxAggregates],
      );
      if (locked.rows.length === 0) {
        await client.query("COMMIT");
        return 0;
      }
      // Re-read after locking (READ COMMITTED: a fresh snapshot per statement), so rows another
      // replica published between the two statements are not sent again. Per aggregate these rows
      // are its lowest pending versions: a version is assigned under the aggregate's row lock,
      // held until the commit that inserts its outbox row, so the next version's row (and its id)
      // is inserted after that commit — per aggregate, id order is version order, and the oldest
      // pending ids of an aggregate are a prefix of its pending versions.
      const rows = await client.query<OutboxRow>(
        `SELECT o.id::text AS id, o.topic, o.message_key, o.payload::text AS payload, o.headers
         FROM event_outbox o
         WHERE o.id = ANY($1::bigint[]) AND o.published_at IS NULL
         ORDER BY o.aggregate_type, o.aggregate_id, o.aggregate_version`,
        [locked.rows.flatMap((r) => r.ids)],
      );
      if (rows.rows.length === 0) {
        await client.query("COMMIT");
        return 0;
      }
      claimed = rows.rows.map((r) => r.id);
      const sending = performance.now();
      this.fault.reached("relay.before-send");
      await this.send(rows.rows);
      this.fault.reached("relay.after-send");
      const marking = performance.now();
      await client.query(
        `UPDATE event_outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::bigint[])`,
        [claimed],
      );
      await client.query("COMMIT");
      const timings = this.current.timings;
      timings.batches += 1;
      timings.claimMs += sending - started;
      timings.sendMs += marking - sending;
      timings.markMs += performance.now() - marking;
      return rows.rows.length;
    } catch (error) {
      try {
        await client.query("ROLLBACK");
        // For operators (`SELECT … WHERE last_error IS NOT NULL`): which rows are stuck, and why.
        if (claimed.length > 0) {
          await client.query(
            `UPDATE event_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[]) AND published_at IS NULL`,
            [claimed, errorMessage(error).slice(0, 2000)],
          );
        }
      } catch {
        broken = true;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Unpublished rows and the age of the oldest in seconds, for `/metrics` (a partial-index scan of
   * `event_outbox_pending_idx`).
   */
  async backlog(): Promise<{ backlog: number; oldestAgeSeconds: number }> {
    const result = await this.pool.query<{ backlog: number; age: number }>(
      `SELECT count(*)::int AS backlog, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age
       FROM event_outbox WHERE published_at IS NULL`,
    );
    const row = result.rows[0];
    return { backlog: row?.backlog ?? 0, oldestAgeSeconds: row?.age ?? 0 };
  }

  private async send(rows: OutboxRow[]): Promise<void> {
    const spans: Span[] = [];
    const batch = tracingEnabled() ? this.batchSpan(rows) : undefined;
    const byTopic = new Map<string, Message[]>();
    for (const row of rows) {
      const messages = byTopic.get(row.topic) ?? [];
      const headers = batch ? this.traceRow(row, batch, spans) : row.headers;
      messages.push({ key: row.message_key, value: row.payload, headers });
      byTopic.set(row.topic, messages);
    }
    try {
      await this.sendMessages(byTopic);
    } catch (error) {
      for (const span of [...spans, ...(batch ? [batch] : [])]) failSpan(span, error);
      throw error;
    } finally {
      for (const span of spans) span.end();
      batch?.end();
    }
  }

  /** The span of a whole batch: its own trace, linked to every trace whose events it carries. */
  private batchSpan(rows: OutboxRow[]): Span {
    const links = rows.flatMap((row): Link[] => {
      const link = linkTo(row.headers.traceparent);
      return link ? [link] : [];
    });
    return tracer().startSpan(
      "outbox relay batch",
      {
        kind: SpanKind.INTERNAL,
        links,
        attributes: {
          "boxoffice.component": "relay",
          "db.namespace": this.options.schema,
          "messaging.batch.message_count": rows.length,
        },
      },
      ROOT_CONTEXT,
    );
  }

  /** The row's PRODUCER span (child of the stored trace context) and headers carrying it. */
  private traceRow(row: OutboxRow, batch: Span, spans: Span[]): Record<string, string> {
    const stored = row.headers.traceparent;
    const parent = stored ? contextOf(stored) : trace.setSpan(ROOT_CONTEXT, batch);
    const span = tracer().startSpan(
      `publish ${row.topic}`,
      {
        kind: SpanKind.PRODUCER,
        links: [{ context: batch.spanContext() }],
        attributes: {
          "boxoffice.component": "relay",
          "messaging.system": "kafka",
          "messaging.operation.type": "send",
          "messaging.destination.name": row.topic,
          "messaging.kafka.message.key": row.message_key,
          "boxoffice.event_type": row.headers["event-type"] ?? "",
          "boxoffice.event_id": row.headers["event-id"] ?? "",
        },
      },
      parent,
    );
    spans.push(span);
    const traceparent = traceparentOf(span);
    return traceparent ? { ...row.headers, traceparent } : row.headers;
  }

  private async sendMessages(byTopic: Map<string, Message[]>): Promise<void> {
    if (!this.producer) {
      const producer = createEventProducer(this.options.kafka);
      await producer.connect();
      this.producer = producer;
    }
    // Bounded client-side too: while a broker shuts down, a request can hang far longer than the
    // broker-side timeout. A send abandoned here may still land; the rows are then re-sent and
    // the duplicate is absorbed by the consumers' inbox (at-least-once, never lost).
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.producer.sendBatch({
          acks: ACKS_ALL,
          timeout: this.sendTimeoutMs,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Kafka did not acknowledge the batch within ${this.sendTimeoutMs} ms`)),
            this.sendTimeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async loop(): Promise<void> {
    while (this.current.state === "running") {
      let published = 0;
      try {
        published = await this.relayBatch();
        this.current.consecutiveFailures = 0;
        this.current.degraded = false;
        if (published > 0) {
          relayPublished.inc({ schema: this.options.schema }, published);
          this.current.publishedTotal += published;
          this.current.lastPublishedAt = new Date().toISOString();
        }
      } catch (error) {
        await this.onFailure(error);
        continue;
      }
      // More may be waiting; otherwise sleep until NOTIFY or the poll interval.
      if (published === 0) await this.sleep(this.pollIntervalMs);
    }
  }

  private async onFailure(error: unknown): Promise<void> {
    const message = errorMessage(error);
    relayFailures.inc({ schema: this.options.schema });
    this.current.consecutiveFailures += 1;
    this.current.degraded = true;
    this.current.lastError = message;
    this.logger.warn("relay: batch failed, will retry", {
      error: message,
      consecutiveFailures: this.current.consecutiveFailures,
    });
    // A fresh producer after any failure: kafkajs' idempotent producer keeps per-partition sequence
    // numbers, and a batch that failed half-way could leave them out of step with the broker.
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
    const delay = Math.min(
      this.backoffMaxMs,
      this.backoffInitialMs * 2 ** Math.min(this.current.consecutiveFailures - 1, 20),
    );
    await this.sleep(delay * (0.5 + Math.random() / 2));
  }

  /** Sleeps up to `ms`, returning early on NOTIFY or stop. */
  private sleep(ms: number): Promise<void> {
    if (this.woken || this.current.state !== "running") {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private signal(): void {
    if (this.wake) this.wake();
    else this.woken = true;
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString });
    client.on("notification", (n) => {
      if (n.channel === OUTBOX_CHANNEL && n.payload === this.options.schema) this.signal();
    });
    client.on("error", (error) => {
      this.logger.warn("relay: LISTEN connection lost; polling until it reconnects", {
        error: error.message,
      });
      this.current.listening = false;
      void client.end().catch(() => undefined);
      this.scheduleListenerReconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.listener = client;
      this.current.listening = true;
      // Rows committed before LISTEN took effect have no pending notification: look once.
      this.signal();
    } catch (error) {
      this.logger.warn("relay: LISTEN failed; polling until it connects", { error: errorMessage(error) });
      await client.end().catch(() => undefined);
      this.scheduleListenerReconnect();
    }
  }

  private scheduleListenerReconnect(): void {
    if (this.current.state !== "running") return;
    clearTimeout(this.listenerRetry);
    this.listenerRetry = setTimeout(() => void this.connectListener(), this.backoffMaxMs);
    this.listenerRetry.unref();
  }

  /**
   * Deletes published rows older than the retention period, at most 10 000 per call (short
   * transactions; the next interval continues).
   *
   * @returns the number of rows deleted.
   */
  async prune(): Promise<number> {
    try {
      const result = await this.pool.query(
        `DELETE FROM event_outbox WHERE id IN (
           SELECT id FROM event_outbox
           WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1::double precision / 1000)
           LIMIT 10000)`,
        [this.retentionMs],
      );
      return result.rowCount ?? 0;
    } catch (error) {
      this.logger.warn("relay: pruning failed", { error: errorMessage(error) });
      return 0;
    }
  }
}

/** Creates a relay (not started). Call `start()`, and `stop()` on shutdown. */
export function createRelay(options: RelayOptions): OutboxRelay {
  return new OutboxRelay(options);
}
