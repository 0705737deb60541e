/**
 * Idempotent, ordered event consumers on a kafkajs consumer group.
 *
 * For every message, in partition order:
 * 1. Decode against the registry (registry.ts documents the unknown-type/version policy).
 * 2. In ONE database transaction supplied by the service: insert (group, eventId) into the inbox
 *    (`ON CONFLICT DO NOTHING`; a conflict means the event was already applied, so the handler is
 *    skipped and the message acknowledged), then run the handler.
 * 3. After that transaction commits, mark the offset resolved; offsets are committed to Kafka at
 *    the end of each batch (and every `commitEveryMessages`). A crash between the database commit
 *    and the offset commit only causes redelivery, which step 2 turns into a no-op.
 * Transient handler errors are retried with exponential backoff (heartbeating meanwhile) up to
 * `maxAttempts`; then — or at once for invalid messages and `NonRetryableError` — the message goes
 * to `<topic>.dlq` with the error in headers, and the partition moves on. Kafka guarantees order per
 * partition and the relay keys by aggregate id, so handlers see each aggregate's events in order;
 * `applyIfNewer` (apply.ts) keeps replicas monotonic even when a replay or a dead-letter re-drive
 * delivers an old event late.
 *
 * Tracing (when on): each message is processed inside a CONSUMER span whose parent is the message's
 * `traceparent` header (the relay's send span), so the inbox insert, the handler's read-model
 * writes and any event it publishes join the trace of the mutation that started it all. A run
 * applied in one transaction gets one more span, linked to every trace in it. Metrics:
 * `boxoffice_consumer_messages_total` by outcome, and at scrape time the lag per partition and the
 * read model's staleness.
 */
import {
  consumerMessages,
  contextOf,
  inSpan,
  linkTo,
  SpanKind,
  tracingEnabled,
  watchConsumer,
  type Span,
} from "@boxoffice/telemetry";
import type { Link } from "@opentelemetry/api";
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from "kafkajs";
import type { EventEnvelope } from "./envelope.ts";
import { HEADERS } from "./envelope.ts";
import { NonRetryableError } from "./errors.ts";
import { FaultInjector, type FaultInjection } from "./fault.ts";
import { ACKS_ALL, createEventProducer } from "./kafka.ts";
import { errorMessage, silentLogger, type EventsLogger } from "./logger.ts";
import type { AnyEventDefinition, EventOfType, EventRegistry } from "./registry.ts";
import { quoteIdentifier, type SqlExecutor } from "./sql.ts";
import { deadLetterTopicOf } from "./topics.ts";

/** Where a message came from, passed to handlers. */
export interface MessageContext {
  groupId: string;
  topic: string;
  partition: number;
  offset: string;
  /** 1 on the first try. */
  attempt: number;
  headers: Record<string, string>;
}

/** A handler: apply the event's effects through `tx` (the inbox row is written in the same tx). */
export type EventHandler<E, Tx> = (event: E, tx: Tx, context: MessageContext) => Promise<void>;

/** One handler per event type the consumer applies; other types on its topics are skipped. */
export type HandlerMap<D extends AnyEventDefinition, Tx> = {
  [K in D["type"]]?: EventHandler<EventOfType<D, K>, Tx>;
};

/**
 * Runs `fn` in a database transaction and resolves with its result after COMMIT (rolls back and
 * rejects if `fn` throws). With Prisma: `(fn) => prisma.$transaction(fn)`; with pg:
 * `pgTransactions(pool)`.
 */
export type TransactionRunner<Tx> = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

export interface ConsumerOptions<D extends AnyEventDefinition, Tx extends SqlExecutor> {
  kafka: Kafka;
  /** `<service>.<purpose>`, e.g. `orders.ticket-replica` (CONVENTIONS.md). */
  groupId: string;
  registry: EventRegistry<D>;
  handlers: HandlerMap<D, Tx>;
  transaction: TransactionRunner<Tx>;
  /** Default: the topics that carry the handled types. */
  topics?: string[];
  /** Inbox table, optionally `schema.table` (default `event_inbox` through search_path). */
  inboxTable?: string;
  /** Tries per message before dead-lettering (default 5). */
  maxAttempts?: number;
  /** Retry backoff, doubling from initialMs up to maxMs (default 200 / 5000). */
  retryBackoff?: { initialMs?: number; maxMs?: number };
  /**
   * Restart backoff after a crash kafkajs does not restart from itself, ms, doubling from initialMs
   * up to maxMs with each crash, and back to initialMs after a minute without one (default
   * 1 000 / 30 000): a consumer that crashes right after every join is not restarted every second.
   * See `start()`.
   */
  restartBackoff?: { initialMs?: number; maxMs?: number };
  /** What to do with a type the registry does not know (default `skip`). */
  unknownTypes?: "skip" | "dead-letter";
  /** A new group starts at the beginning of the topics (default true: replicas need everything). */
  fromBeginning?: boolean;
  /** Partitions processed in parallel, each still in order (default 1). */
  partitionsConsumedConcurrently?: number;
  /** Offsets are committed at least this often within a batch (default 100 messages). */
  commitEveryMessages?: number;
  /**
   * Up to this many consecutive messages of a partition are applied in ONE database transaction
   * (default 1: a transaction per message). The inbox rows of the whole run are inserted by one
   * statement (`INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING event_id`), then
   * the handlers of the new events run in partition order in the same transaction. If anything in
   * the run fails, the transaction rolls back (nothing of the run is applied) and the run is
   * redone one message per transaction, with the usual retries and dead letters; so the
   * guarantees (once, in order, poison isolated) are those of the per-message path. Keep runs
   * short enough for the transaction runner's timeout (Prisma's default is 5 s).
   */
  applyBatchSize?: number;
  /**
   * Broker session timeout, ms (default {@link DEFAULT_SESSION_TIMEOUT_MS}, 10 000; kafkajs' own is
   * 30 000; the broker refuses less than its `group.min.session.timeout.ms`, 6 000 by default). A
   * member that sends no heartbeat for this long is expelled; it is also how long a member restarted
   * after a crash (SIGKILL) may wait for its group to re-form, since the broker waits for the dead
   * member until its session expires (Kafka docs, consumer configs `session.timeout.ms`).
   */
  sessionTimeoutMs?: number;
  /**
   * Heartbeat interval, ms (default {@link DEFAULT_HEARTBEAT_INTERVAL_MS}, 1 000; must be below the
   * session timeout, a third of it or less per the Kafka docs). A member learns of a rebalance at its
   * next heartbeat, so this also bounds how long a joining member waits for the live ones.
   */
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /** Fetch long-poll wait, ms (default 100: low latency at low traffic; kafkajs' default is 5000). */
  maxWaitTimeInMs?: number;
  logger?: EventsLogger;
  /** Called after each message is settled (metrics, tests). */
  onOutcome?: (outcome: MessageOutcome) => void;
  /** Test-only: crash at a named point (fault.ts). */
  faultInjection?: FaultInjection;
}

export type OutcomeKind =
  | "applied"
  | "duplicate"
  | "skipped-unhandled"
  | "skipped-unknown-type"
  | "skipped-other-group"
  | "dead-lettered";

export interface MessageOutcome {
  kind: OutcomeKind;
  topic: string;
  partition: number;
  offset: string;
  /** The Kafka record's timestamp (ms since the epoch, as a string; the relay's send time). */
  timestamp?: string;
  eventId?: string;
  type?: string;
  attempts: number;
  error?: string;
}

/** A consumer this long without a crash restarts after the next one with the initial backoff again. */
const STABLE_AFTER_MS = 60_000;

/** Default `sessionTimeoutMs`: a crashed member's partitions (and its restart) wait at most this long. */
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
/** Default `heartbeatIntervalMs` (a tenth of the session timeout). */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;

/** For `/readyz` and dashboards. */
export interface ConsumerStatus {
  groupId: string;
  /** `running` from `start()` to `stop()`, through crashes and restarts (see `ready`, `restarts`). */
  state: "idle" | "starting" | "running" | "stopping" | "stopped";
  /** Running and a member of the group (assignments known). */
  ready: boolean;
  /**
   * Running and (re)joining its group after `start()` or a rebalance, with no crash since: the group
   * has not formed yet (after a crash of a previous member, up to the session timeout). False once it
   * joined, and false after a crash until it has joined again — so a crashing consumer is never
   * mistaken for a joining one.
   */
  joining: boolean;
  memberId?: string;
  /** topic → assigned partitions, from the last group join. */
  assignments: Record<string, number[]>;
  counts: Record<OutcomeKind | "retries", number>;
  /** `topic/partition` → next offset to process (the position after the last settled message). */
  positions: Record<string, string>;
  lastError?: string;
  lastSettledAt?: string;
  /**
   * How many times this consumer tried to restart itself after a crash kafkajs would not restart
   * from (`start()`), failed attempts included (a broker still away); kafkajs' own restarts after
   * retriable crashes are not counted.
   */
  restarts: number;
  /**
   * How far behind the consumer is: `events` = Σ over assigned partitions of (high watermark −
   * position), with each partition's high watermark as of its last fetched batch (so it can be
   * low by what arrived since, at most one fetch wait); `ms` = age of the oldest record not yet
   * settled (now − its Kafka timestamp; when that record is not fetched yet, the timestamp of the
   * last settled one stands in, an upper bound), 0 when caught up. Per `topic/partition` too.
   */
  lag: { events: number; ms: number; partitions: Record<string, { events: number; ms: number }> };
  /**
   * Where the time went since start, cumulative ms: `applyMs` in database transactions (inbox +
   * handlers + COMMIT, retries' waits excluded), `commitMs` committing offsets to Kafka; `batches`
   * fetched batches handled, `transactions` database transactions run.
   */
  timings: { batches: number; transactions: number; applyMs: number; commitMs: number };
}

class Aborted extends Error {}

/** Per partition: what `status().lag` is computed from. */
interface PartitionProgress {
  highWatermark: bigint;
  position: bigint;
  /** Kafka timestamp (ms) of the next record to settle, or of the last settled one. */
  nextTimestamp?: number;
}

/** A message of a run applied in one transaction (see `applyBatchSize`). */
type RunEntry =
  | { message: KafkaMessage; event: EventEnvelope; handler: EventHandler<EventEnvelope, unknown> }
  | { message: KafkaMessage; skip: MessageOutcome };

/**
 * An event consumer. `start()` joins the group; `stop()` drains and leaves; `status()` for /readyz.
 */
export class EventConsumer<D extends AnyEventDefinition, Tx extends SqlExecutor> {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly logger: EventsLogger;
  private readonly fault: FaultInjector;
  private readonly inboxInsert: string;
  private readonly topics: string[];
  private readonly maxAttempts: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly commitEvery: number;
  private readonly applyBatchSize: number;
  private readonly inboxInsertMany: string;
  private readonly current: ConsumerStatus;
  private readonly progress = new Map<string, PartitionProgress>();
  /** kafkajs' `run()`: settles once the first group join finished (or crashed). */
  private firstJoin: Promise<void> | undefined;
  private unwatch: (() => void) | undefined;
  private readonly restartInitialMs: number;
  private readonly restartMaxMs: number;
  private restartDelayMs: number;
  /** When the last crash this consumer restarted from happened (ms since the epoch). */
  private lastCrashAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** A supervised restart in progress (reconnect, subscribe, run): the error if it failed. */
  private restarting: Promise<string | undefined> | undefined;

  constructor(private readonly options: ConsumerOptions<D, Tx>) {
    this.logger = options.logger ?? silentLogger;
    this.fault = new FaultInjector(options.faultInjection);
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffInitialMs = options.retryBackoff?.initialMs ?? 200;
    this.backoffMaxMs = options.retryBackoff?.maxMs ?? 5_000;
    this.restartInitialMs = options.restartBackoff?.initialMs ?? 1_000;
    this.restartMaxMs = options.restartBackoff?.maxMs ?? 30_000;
    this.restartDelayMs = this.restartInitialMs;
    this.commitEvery = options.commitEveryMessages ?? 100;
    this.applyBatchSize = Math.max(1, Math.floor(options.applyBatchSize ?? 1));
    this.topics = options.topics ?? options.registry.topicsForTypes(Object.keys(options.handlers));
    const inbox = quoteIdentifier(options.inboxTable ?? "event_inbox");
    this.inboxInsert =
      `INSERT INTO ${inbox} (consumer_group, event_id, event_type, aggregate_type, aggregate_id,` +
      ` aggregate_version, topic, kafka_partition, kafka_offset)` +
      ` VALUES ($1, $2::uuid, $3, $4, $5, $6::bigint, $7, $8::int, $9::bigint) ON CONFLICT DO NOTHING`;
    // The inbox check of a whole run in one statement: RETURNING names the events not seen before.
    this.inboxInsertMany =
      `INSERT INTO ${inbox} (consumer_group, event_id, event_type, aggregate_type, aggregate_id,` +
      ` aggregate_version, topic, kafka_partition, kafka_offset)` +
      ` SELECT $1, u.e::uuid, u.t, u.at, u.ai, u.v::bigint, $2, $3::int, u.o::bigint` +
      ` FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u(e, t, at, ai, v, o)` +
      ` ON CONFLICT DO NOTHING RETURNING event_id::text AS event_id`;
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 100,
      sessionTimeout: options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
      heartbeatInterval: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      ...(options.rebalanceTimeoutMs !== undefined ? { rebalanceTimeout: options.rebalanceTimeoutMs } : {}),
      retry: {
        retries: 5, // kafkajs' consumer default, restated because `retry` replaces it
        // After a retriable crash kafkajs restarts the consumer by itself — never once stop() began,
        // or a consumer stopped in the middle of a join would come back after its service shut down.
        restartOnFailure: () => Promise.resolve(this.current.state === "running"),
      },
    });
    this.producer = createEventProducer(options.kafka);
    this.current = {
      groupId: options.groupId,
      state: "idle",
      ready: false,
      joining: false,
      assignments: {},
      positions: {},
      lag: { events: 0, ms: 0, partitions: {} },
      restarts: 0,
      timings: { batches: 0, transactions: 0, applyMs: 0, commitMs: 0 },
      counts: {
        applied: 0,
        duplicate: 0,
        "skipped-unhandled": 0,
        "skipped-unknown-type": 0,
        "skipped-other-group": 0,
        "dead-lettered": 0,
        retries: 0,
      },
    };
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      this.current.memberId = event.payload.memberId;
      this.current.assignments = Object.fromEntries(
        Object.entries(event.payload.memberAssignment).map(([t, ps]) => [t, [...ps].sort((a, b) => a - b)]),
      );
      // Lag is reported for the partitions this member owns now.
      for (const key of [...this.progress.keys()]) {
        const [t, p] = [key.slice(0, key.lastIndexOf("/")), Number(key.slice(key.lastIndexOf("/") + 1))];
        if (!this.current.assignments[t]?.includes(p)) this.progress.delete(key);
      }
      if (this.current.state === "running") this.current.ready = true;
      this.current.joining = false;
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.current.lastError = errorMessage(event.payload.error);
      this.current.ready = false;
      this.current.joining = false;
      if (!event.payload.restart) this.restartAfterCrash(errorMessage(event.payload.error));
    });
    this.consumer.on(this.consumer.events.REBALANCING, () => {
      this.current.ready = false;
      // A rebalance is the group re-forming, not a failure: unless the consumer crashed meanwhile.
      if (this.current.state === "running") this.current.joining = true;
    });
  }

  /** The consumer group id (`<service>.<purpose>`). */
  get groupId(): string {
    return this.options.groupId;
  }

  /**
   * The aggregate types of the events this consumer applies (those it has handlers for): what its
   * read model reflects, for read-your-writes (consistency.ts `ReadModelSource`).
   */
  get aggregateTypes(): string[] {
    const { registry } = this.options;
    const types = new Set<string>();
    for (const type of Object.keys(this.options.handlers)) {
      for (const version of registry.versions(type)) {
        const definition = registry.definition(type, version);
        if (definition) types.add(definition.aggregateType);
      }
    }
    return [...types];
  }

  /** A snapshot for /readyz. */
  status(): ConsumerStatus {
    const now = Date.now();
    const partitions: Record<string, { events: number; ms: number }> = {};
    let events = 0;
    let ms = 0;
    for (const [key, p] of this.progress) {
      const behind = p.highWatermark > p.position ? Number(p.highWatermark - p.position) : 0;
      const age = behind > 0 && p.nextTimestamp !== undefined ? Math.max(0, now - p.nextTimestamp) : 0;
      partitions[key] = { events: behind, ms: age };
      events += behind;
      ms = Math.max(ms, age);
    }
    this.current.lag = { events, ms, partitions };
    return structuredClone(this.current);
  }

  /**
   * Connects and subscribes, then joins the group in the background: resolves without waiting for
   * the join (`status().joining` until then, `status().ready` after). A member restarted after a
   * crash waits for the group to re-form, which the broker holds until the dead member's session
   * expires (`sessionTimeoutMs`); its service serves from its tables meanwhile.
   *
   * Supervised: kafkajs restarts its consumer after a retriable crash, but not after one it deems
   * non-retriable, and some of those happen in an ordinary broker outage — "Failed to find group
   * coordinator" when the broker goes away while the member re-joins (kafkajs issues #1630, #1445).
   * Left alone, such a consumer stays disconnected for the life of the process while its service
   * answers from a read model that no longer moves. So after any crash kafkajs will not restart
   * from, this consumer reconnects, re-subscribes and runs again itself, after `restartBackoff`
   * (doubling while the broker stays away), until `stop()`; `status().restarts` counts these, and
   * the consumer is not ready (`/readyz` false, never `joining`) from the crash until it has joined
   * again.
   *
   * @throws kafkajs errors when the broker is unreachable or a topic does not exist.
   */
  async start(): Promise<void> {
    if (this.current.state !== "idle") throw new Error(`consumer already ${this.current.state}`);
    this.current.state = "starting";
    await this.producer.connect();
    await this.consumer.connect();
    await this.subscribe();
    // stop() came while connecting: it is waiting for nothing, so undo the connections here.
    if (this.current.state !== "starting") {
      await this.consumer.disconnect().catch(() => undefined);
      await this.producer.disconnect().catch(() => undefined);
      return;
    }
    this.current.state = "running";
    this.unwatch = watchConsumer({ group: this.options.groupId, read: () => this.status().lag });
    this.current.joining = true;
    this.firstJoin = this.run();
  }

  /**
   * kafkajs' `run()`: resolves after the first joinAndSync; a failed join goes through kafkajs' crash
   * handling (CRASH event: its restart, or ours), so the promise itself rarely rejects.
   */
  private run(): Promise<void> {
    return this.consumer
      .run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
        eachBatch: (payload) => this.eachBatch(payload),
      })
      .catch((error: unknown) => {
        this.current.lastError = errorMessage(error);
        this.restartAfterCrash(errorMessage(error));
      });
  }

  /** After a crash kafkajs will not restart from: schedules our own restart (see `start()`). */
  private restartAfterCrash(error: string): void {
    this.current.ready = false;
    this.current.joining = false;
    if (this.current.state !== "running" || this.restartTimer || this.restarting) return;
    if (Date.now() - this.lastCrashAt > STABLE_AFTER_MS) this.restartDelayMs = this.restartInitialMs;
    this.lastCrashAt = Date.now();
    const delayMs = this.restartDelayMs;
    this.restartDelayMs = Math.min(delayMs * 2, this.restartMaxMs);
    this.logger.error("consumer: crashed and kafkajs will not restart it; restarting", {
      groupId: this.options.groupId,
      error,
      inMs: delayMs,
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restarting = this.restart();
      void this.restarting.then((failed) => {
        this.restarting = undefined;
        // Still unreachable (the broker is away): again later, after a longer wait.
        if (failed !== undefined) this.restartAfterCrash(failed);
      });
    }, delayMs);
  }

  /** Subscribes to the consumer's topics (from the beginning for a new group, unless told otherwise). */
  private subscribe(): Promise<void> {
    return this.consumer.subscribe({
      topics: this.topics,
      fromBeginning: this.options.fromBeginning ?? true,
    });
  }

  /** Reconnects, re-subscribes and runs again; resolves the error when a step failed. */
  private async restart(): Promise<string | undefined> {
    if (this.current.state !== "running") return undefined;
    this.current.restarts += 1;
    try {
      // kafkajs disconnected the crashed consumer already; this is a no-op unless it was half-way.
      await this.consumer.disconnect();
      await this.consumer.connect();
      await this.subscribe();
    } catch (error) {
      this.current.lastError = errorMessage(error);
      return errorMessage(error);
    }
    if (this.current.state !== "running") {
      // stop() came meanwhile (and gave up waiting): leave nothing connected behind it.
      await this.consumer.disconnect().catch(() => undefined);
      return undefined;
    }
    // Not `joining`: after a crash the consumer counts as not ready until it has joined again.
    this.firstJoin = this.run();
    return undefined;
  }

  /**
   * Graceful shutdown within `deadlineMs` (default 10 000): stop fetching, let the message in
   * flight finish (retries are abandoned, the message will be redelivered), commit the offsets of
   * everything applied, leave the group, disconnect. Resolves `{ timedOut: true }` when the
   * deadline passed first; whatever was not committed is redelivered to the next owner and the
   * inbox makes that a no-op.
   *
   * Stopped during its first join, it waits for that join to finish and then leaves: kafkajs'
   * disconnect waits for the JoinGroup request in flight anyway, and a member that joined but never
   * synced or left would hold the group's next rebalance for a whole session timeout. Stop the
   * service's workers before its consumers: this wait can last up to `sessionTimeoutMs`.
   */
  async stop(deadlineMs = 10_000): Promise<{ timedOut: boolean }> {
    if (this.current.state === "stopped") return { timedOut: false };
    this.current.state = "stopping";
    this.current.ready = false;
    this.current.joining = false;
    this.unwatch?.();
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      // A restart in progress (reconnecting while the broker is away can take kafkajs' whole retry
      // budget) counts against the deadline too; it sees `stopping` and runs nothing.
      (this.restarting ?? Promise.resolve())
        .then(() => this.firstJoin)
        .then(() => this.consumer.disconnect())
        .then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    await this.producer.disconnect().catch(() => undefined);
    this.current.state = "stopped";
    return { timedOut };
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    // kafkajs' payload functions are closures, safe to call detached; wrap them for the linter.
    const resolveOffset = (offset: string) => payload.resolveOffset(offset);
    const heartbeat = () => payload.heartbeat();
    const isRunning = () => payload.isRunning();
    const isStale = () => payload.isStale();
    const commitOffsetsIfNecessary = (offsets: Parameters<EachBatchPayload["commitOffsetsIfNecessary"]>[0]) =>
      payload.commitOffsetsIfNecessary(offsets);
    const key = `${topic}/${partition}`;
    const messages = batch.messages;
    if (messages.length > 0) this.fault.reached("consumer.non-retriable-crash");
    const progress: PartitionProgress = this.progress.get(key) ?? {
      highWatermark: 0n,
      position: 0n,
    };
    progress.highWatermark = BigInt(batch.highWatermark);
    if (messages[0]) {
      progress.position = BigInt(messages[0].offset);
      progress.nextTimestamp = Number(messages[0].timestamp);
    }
    this.progress.set(key, progress);
    this.current.timings.batches += 1;
    let uncommitted: string | undefined;
    let sinceCommit = 0;
    const commit = async () => {
      if (uncommitted === undefined) return;
      const started = performance.now();
      await commitOffsetsIfNecessary({
        topics: [{ topic, partitions: [{ partition, offset: uncommitted }] }],
      });
      this.current.timings.commitMs += performance.now() - started;
      uncommitted = undefined;
      sinceCommit = 0;
    };
    try {
      let index = 0;
      // After a run failed, its messages go one per transaction (retries, dead letters) up to here.
      let oneByOneUntil = 0;
      while (index < messages.length) {
        if (!messages[index] || !isRunning() || isStale()) break;
        // A run of messages applied in one transaction, or (run too short, or it failed) one message.
        const run =
          this.applyBatchSize > 1 && index >= oneByOneUntil
            ? this.collectRun(topic, partition, messages, index)
            : [];
        let outcomes = run.length > 1 ? await this.applyRun(topic, partition, run) : undefined;
        if (!outcomes && run.length > 1) oneByOneUntil = index + run.length;
        if (!outcomes) {
          const message = messages[index];
          if (!message) break;
          try {
            const control = { heartbeat, isRunning };
            outcomes = [
              tracingEnabled()
                ? await this.processTraced(topic, partition, message, control)
                : await this.process(topic, partition, message, control),
            ];
          } catch (error) {
            if (error instanceof Aborted) break;
            throw error;
          }
        }
        for (const outcome of outcomes) {
          const message = messages[index];
          if (!message) break;
          resolveOffset(message.offset);
          uncommitted = (BigInt(message.offset) + 1n).toString();
          progress.position = BigInt(uncommitted);
          progress.nextTimestamp = Number(messages[index + 1]?.timestamp ?? message.timestamp);
          this.settle({ ...outcome, timestamp: message.timestamp }, uncommitted);
          if (outcome.kind === "applied") this.fault.reached("consumer.after-db-commit");
          if (messages.length > 1 && index + 1 === Math.ceil(messages.length / 2)) {
            this.fault.reached("consumer.mid-batch");
          }
          index += 1;
          sinceCommit += 1;
          if (sinceCommit >= this.commitEvery) await commit();
        }
        await heartbeat();
      }
    } finally {
      // Commit what was applied even when the loop ends by an error, so a restart redoes less.
      await commit().catch((error: unknown) => {
        this.logger.warn("consumer: offset commit failed; messages will be redelivered (inbox no-ops)", {
          groupId: this.options.groupId,
          topic,
          partition,
          error: errorMessage(error),
        });
      });
    }
  }

  /**
   * The consecutive messages from `from` that can share one transaction: events with a handler,
   * and messages settled without one (other group's replay, unhandled or skipped unknown type).
   * Stops before a message that must be dead-lettered, and at `applyBatchSize`.
   */
  private collectRun(topic: string, partition: number, messages: KafkaMessage[], from: number): RunEntry[] {
    const run: RunEntry[] = [];
    const handlers = this.options.handlers as Record<string, EventHandler<EventEnvelope, Tx> | undefined>;
    for (let i = from; i < messages.length && run.length < this.applyBatchSize; i += 1) {
      const message = messages[i];
      if (!message) break;
      const base = { topic, partition, offset: message.offset };
      const replayFor = headersToStrings(message.headers)[HEADERS.replayFor];
      if (replayFor !== undefined && replayFor !== this.options.groupId) {
        run.push({ message, skip: { ...base, kind: "skipped-other-group", attempts: 0 } });
        continue;
      }
      const decoded = this.options.registry.decode(message.value);
      if (decoded.kind === "unknown-type" && this.options.unknownTypes !== "dead-letter") {
        run.push({
          message,
          skip: { ...base, kind: "skipped-unknown-type", type: decoded.type, attempts: 0 },
        });
        continue;
      }
      if (decoded.kind !== "ok") break;
      const event = decoded.event as EventEnvelope;
      const handler = handlers[event.type];
      if (!handler) {
        run.push({
          message,
          skip: { ...base, eventId: event.eventId, type: event.type, kind: "skipped-unhandled", attempts: 0 },
        });
        continue;
      }
      run.push({ message, event, handler: handler as EventHandler<EventEnvelope, unknown> });
    }
    return run;
  }

  /**
   * Applies a run in one transaction: one inbox statement for all its events, then each new
   * event's handler in order. Resolves the outcomes in message order, or `undefined` when the
   * transaction failed (rolled back: nothing of the run applied; the caller redoes it one by one).
   */
  private async applyRun(
    topic: string,
    partition: number,
    run: RunEntry[],
  ): Promise<MessageOutcome[] | undefined> {
    const applies = run.flatMap((entry) => ("event" in entry ? [entry] : []));
    const started = performance.now();
    const traced = tracingEnabled() && applies.length > 0;
    try {
      const nothing = new Set<RunEntry>();
      const transact = (fn: () => Promise<Set<RunEntry>>) =>
        traced
          ? inSpan(
              `process batch ${topic}`,
              {
                kind: SpanKind.CONSUMER,
                links: applies.flatMap((a): Link[] => {
                  const link = linkTo(traceparentHeader(a.message));
                  return link ? [link] : [];
                }),
                attributes: {
                  ...this.spanAttributes(topic, partition),
                  "messaging.batch.message_count": run.length,
                },
              },
              fn,
            )
          : fn();
      const applied =
        applies.length === 0
          ? nothing
          : await transact(() =>
              this.options.transaction(async (tx) => {
                const inserted = await tx.$queryRawUnsafe<Array<{ event_id: string }>>(
                  this.inboxInsertMany,
                  this.options.groupId,
                  topic,
                  partition,
                  applies.map((a) => a.event.eventId),
                  applies.map((a) => a.event.type),
                  applies.map((a) => a.event.aggregateType),
                  applies.map((a) => a.event.aggregateId),
                  applies.map((a) => String(a.event.aggregateVersion)),
                  applies.map((a) => a.message.offset),
                );
                // An event id twice in one run (a relay re-send) is new only the first time.
                const fresh = new Set(inserted.map((r) => r.event_id.toLowerCase()));
                const done = new Set<RunEntry>();
                for (const entry of applies) {
                  const id = entry.event.eventId.toLowerCase();
                  if (!fresh.has(id)) continue;
                  fresh.delete(id);
                  const handle = () =>
                    entry.handler(entry.event, tx, {
                      groupId: this.options.groupId,
                      topic,
                      partition,
                      offset: entry.message.offset,
                      attempt: 1,
                      headers: headersToStrings(entry.message.headers),
                    });
                  // Each event's handler in its own trace, so what it writes and publishes follows it.
                  if (traced) {
                    await inSpan(
                      `process ${topic}`,
                      {
                        kind: SpanKind.CONSUMER,
                        parent: contextOf(traceparentHeader(entry.message)),
                        attributes: this.messageAttributes(topic, partition, entry.message, entry.event),
                      },
                      handle,
                    );
                  } else {
                    await handle();
                  }
                  done.add(entry);
                }
                return done;
              }),
            );
      return run.map((entry): MessageOutcome => {
        if ("skip" in entry) return entry.skip;
        return {
          topic,
          partition,
          offset: entry.message.offset,
          eventId: entry.event.eventId,
          type: entry.event.type,
          kind: applied.has(entry) ? "applied" : "duplicate",
          attempts: 1,
        };
      });
    } catch (error) {
      this.logger.debug("consumer: batch transaction failed; applying its messages one by one", {
        groupId: this.options.groupId,
        topic,
        partition,
        error: errorMessage(error),
      });
      return undefined;
    } finally {
      this.current.timings.transactions += 1;
      this.current.timings.applyMs += performance.now() - started;
    }
  }

  private settle(outcome: MessageOutcome, nextOffset: string): void {
    consumerMessages.inc({ group: this.options.groupId, topic: outcome.topic, outcome: outcome.kind });
    this.current.counts[outcome.kind] += 1;
    this.current.positions[`${outcome.topic}/${outcome.partition}`] = nextOffset;
    this.current.lastSettledAt = new Date().toISOString();
    this.options.onOutcome?.(outcome);
  }

  /** OpenTelemetry messaging attributes of this consumer on `topic`/`partition`. */
  private spanAttributes(topic: string, partition: number): Record<string, string | number> {
    return {
      "messaging.system": "kafka",
      "messaging.operation.type": "process",
      "messaging.destination.name": topic,
      "messaging.destination.partition.id": String(partition),
      "messaging.consumer.group.name": this.options.groupId,
    };
  }

  private messageAttributes(
    topic: string,
    partition: number,
    message: KafkaMessage,
    event?: EventEnvelope,
  ): Record<string, string | number> {
    return {
      ...this.spanAttributes(topic, partition),
      "messaging.kafka.offset": message.offset,
      ...(event ? { "boxoffice.event_type": event.type, "boxoffice.event_id": event.eventId } : {}),
    };
  }

  /** `process` inside a CONSUMER span continuing the message's trace. */
  private processTraced(
    topic: string,
    partition: number,
    message: KafkaMessage,
    control: { heartbeat: () => Promise<void>; isRunning: () => boolean },
  ): Promise<MessageOutcome> {
    return inSpan(
      `process ${topic}`,
      {
        kind: SpanKind.CONSUMER,
        parent: contextOf(traceparentHeader(message)),
        attributes: this.messageAttributes(topic, partition, message),
      },
      async (span: Span | undefined) => {
        const outcome = await this.process(topic, partition, message, control);
        span?.setAttribute("boxoffice.outcome", outcome.kind);
        if (outcome.type) span?.setAttribute("boxoffice.event_type", outcome.type);
        if (outcome.eventId) span?.setAttribute("boxoffice.event_id", outcome.eventId);
        return outcome;
      },
    );
  }

  private async process(
    topic: string,
    partition: number,
    message: KafkaMessage,
    control: { heartbeat: () => Promise<void>; isRunning: () => boolean },
  ): Promise<MessageOutcome> {
    const base = { topic, partition, offset: message.offset };
    const headers = headersToStrings(message.headers);
    const replayFor = headers[HEADERS.replayFor];
    if (replayFor !== undefined && replayFor !== this.options.groupId) {
      return { ...base, kind: "skipped-other-group", attempts: 0 };
    }
    const decoded = this.options.registry.decode(message.value);
    if (decoded.kind === "invalid") {
      return this.deadLetter(base, message, "invalid", new Error(decoded.reason), 1);
    }
    if (decoded.kind === "unknown-version") {
      const error = new Error(
        `${decoded.type}@${decoded.version} is not registered (known versions: ${decoded.known.join(", ")})`,
      );
      return this.deadLetter(base, message, "unknown-version", error, 1);
    }
    if (decoded.kind === "unknown-type") {
      if (this.options.unknownTypes === "dead-letter") {
        return this.deadLetter(
          base,
          message,
          "unknown-type",
          new Error(`${decoded.type} is not registered`),
          1,
        );
      }
      return { ...base, kind: "skipped-unknown-type", type: decoded.type, attempts: 0 };
    }
    const event = decoded.event as EventEnvelope;
    const handler = (this.options.handlers as Record<string, EventHandler<EventEnvelope, Tx> | undefined>)[
      event.type
    ];
    const ids = { eventId: event.eventId, type: event.type };
    if (!handler) return { ...base, ...ids, kind: "skipped-unhandled", attempts: 0 };

    for (let attempt = 1; ; attempt += 1) {
      const started = performance.now();
      try {
        const applied = await this.options.transaction(async (tx) => {
          const inserted = await tx.$executeRawUnsafe(
            this.inboxInsert,
            this.options.groupId,
            event.eventId,
            event.type,
            event.aggregateType,
            event.aggregateId,
            event.aggregateVersion,
            topic,
            partition,
            message.offset,
          );
          if (inserted === 0) return false;
          await handler(event, tx, { groupId: this.options.groupId, ...base, attempt, headers });
          return true;
        });
        this.current.timings.transactions += 1;
        this.current.timings.applyMs += performance.now() - started;
        return { ...base, ...ids, kind: applied ? "applied" : "duplicate", attempts: attempt };
      } catch (error) {
        const permanent = error instanceof NonRetryableError;
        if (permanent || attempt >= this.maxAttempts) {
          return this.deadLetter(
            base,
            message,
            permanent ? "non-retryable" : "max-attempts",
            error,
            attempt,
            ids,
          );
        }
        this.current.counts.retries += 1;
        this.current.lastError = errorMessage(error);
        this.logger.warn("consumer: handler failed, retrying", {
          groupId: this.options.groupId,
          ...base,
          ...ids,
          attempt,
          error: errorMessage(error),
        });
        const delay = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** (attempt - 1));
        await this.pause(delay, control);
      }
    }
  }

  /** Sleeps in heartbeat-sized steps; throws Aborted when the consumer is stopping. */
  private async pause(ms: number, control: { heartbeat: () => Promise<void>; isRunning: () => boolean }) {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!control.isRunning()) throw new Aborted();
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, until - Date.now())));
      await control.heartbeat();
    }
    if (!control.isRunning()) throw new Aborted();
  }

  /**
   * Sends the original message (same key, value and headers) to `<topic>.dlq` with the failure in
   * headers. If that send fails the error propagates: the batch stops uncommitted at this message
   * and kafkajs retries it, so a message is never skipped without being dead-lettered.
   */
  private async deadLetter(
    base: { topic: string; partition: number; offset: string },
    message: KafkaMessage,
    reason: string,
    error: unknown,
    attempts: number,
    ids: { eventId?: string; type?: string } = {},
  ): Promise<MessageOutcome> {
    const original: IHeaders = Object.fromEntries(
      Object.entries(message.headers ?? {}).filter(([k, v]) => v !== undefined && !k.startsWith("dlq-")),
    );
    await this.producer.send({
      topic: deadLetterTopicOf(base.topic),
      acks: ACKS_ALL,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...original,
            [HEADERS.dlqReason]: reason,
            [HEADERS.dlqErrorName]: error instanceof Error ? error.name : "Error",
            [HEADERS.dlqErrorMessage]: errorMessage(error).slice(0, 4000),
            [HEADERS.dlqOriginalTopic]: base.topic,
            [HEADERS.dlqOriginalPartition]: String(base.partition),
            [HEADERS.dlqOriginalOffset]: base.offset,
            [HEADERS.dlqAttempts]: String(attempts),
            [HEADERS.dlqFailedAt]: new Date().toISOString(),
            [HEADERS.dlqConsumerGroup]: this.options.groupId,
          },
        },
      ],
    });
    this.logger.error("consumer: message dead-lettered", {
      groupId: this.options.groupId,
      ...base,
      ...ids,
      reason,
      error: errorMessage(error),
    });
    return { ...base, ...ids, kind: "dead-lettered", attempts, error: errorMessage(error) };
  }
}

/** The message's W3C `traceparent` header, if any. */
function traceparentHeader(message: KafkaMessage): string | undefined {
  const value = message.headers?.[HEADERS.traceparent];
  const first = Array.isArray(value) ? value[0] : value;
  return first?.toString();
}

/** Kafka headers as strings (first value of repeated headers). */
export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) result[key] = first.toString();
  }
  return result;
}

/**
 * Creates a consumer (not started). The handlers' `tx` type is inferred from `transaction`
 * (`prismaTransactions(prisma)` → the Prisma TransactionClient; `pgTransactions(pool)` →
 * `PgTransaction`) when handlers are declared functions or annotate `tx`; inline handlers with an
 * unannotated `tx` see `SqlExecutor` (a TypeScript inference limit), so annotate them, e.g.
 * `(event, tx: TransactionClientOf<typeof prisma>) => …`.
 *
 * @throws UnknownEventError when `topics` is omitted and a handler names an unregistered type;
 *   EventsConfigError for a bad `inboxTable` name.
 */
export function createConsumer<D extends AnyEventDefinition, Tx extends SqlExecutor>(
  options: ConsumerOptions<D, Tx>,
): EventConsumer<D, Tx> {
  return new EventConsumer(options);
}
