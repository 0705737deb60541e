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
 */
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
  /** What to do with a type the registry does not know (default `skip`). */
  unknownTypes?: "skip" | "dead-letter";
  /** A new group starts at the beginning of the topics (default true: replicas need everything). */
  fromBeginning?: boolean;
  /** Partitions processed in parallel, each still in order (default 1). */
  partitionsConsumedConcurrently?: number;
  /** Offsets are committed at least this often within a batch (default 100 messages). */
  commitEveryMessages?: number;
  /** Broker session timeout, ms (kafkajs default 30 000; the broker's minimum is 6 000). */
  sessionTimeoutMs?: number;
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
  eventId?: string;
  type?: string;
  attempts: number;
  error?: string;
}

/** For `/readyz` and dashboards. */
export interface ConsumerStatus {
  groupId: string;
  state: "idle" | "starting" | "running" | "stopping" | "stopped" | "crashed";
  /** Running and a member of the group (assignments known). */
  ready: boolean;
  memberId?: string;
  /** topic → assigned partitions, from the last group join. */
  assignments: Record<string, number[]>;
  counts: Record<OutcomeKind | "retries", number>;
  /** `topic/partition` → next offset to process (the position after the last settled message). */
  positions: Record<string, string>;
  lastError?: string;
  lastSettledAt?: string;
}

class Aborted extends Error {}

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
  private readonly current: ConsumerStatus;

  constructor(private readonly options: ConsumerOptions<D, Tx>) {
    this.logger = options.logger ?? silentLogger;
    this.fault = new FaultInjector(options.faultInjection);
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffInitialMs = options.retryBackoff?.initialMs ?? 200;
    this.backoffMaxMs = options.retryBackoff?.maxMs ?? 5_000;
    this.commitEvery = options.commitEveryMessages ?? 100;
    this.topics = options.topics ?? options.registry.topicsForTypes(Object.keys(options.handlers));
    const inbox = quoteIdentifier(options.inboxTable ?? "event_inbox");
    this.inboxInsert =
      `INSERT INTO ${inbox} (consumer_group, event_id, event_type, aggregate_type, aggregate_id,` +
      ` aggregate_version, topic, kafka_partition, kafka_offset)` +
      ` VALUES ($1, $2::uuid, $3, $4, $5, $6::bigint, $7, $8::int, $9::bigint) ON CONFLICT DO NOTHING`;
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 100,
      ...(options.sessionTimeoutMs !== undefined ? { sessionTimeout: options.sessionTimeoutMs } : {}),
      ...(options.heartbeatIntervalMs !== undefined
        ? { heartbeatInterval: options.heartbeatIntervalMs }
        : {}),
      ...(options.rebalanceTimeoutMs !== undefined ? { rebalanceTimeout: options.rebalanceTimeoutMs } : {}),
    });
    this.producer = createEventProducer(options.kafka);
    this.current = {
      groupId: options.groupId,
      state: "idle",
      ready: false,
      assignments: {},
      positions: {},
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
      if (this.current.state === "running") this.current.ready = true;
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.current.lastError = errorMessage(event.payload.error);
      this.current.ready = false;
      if (!event.payload.restart) this.current.state = "crashed";
    });
    this.consumer.on(this.consumer.events.REBALANCING, () => {
      this.current.ready = false;
    });
  }

  /** A snapshot for /readyz. */
  status(): ConsumerStatus {
    return structuredClone(this.current);
  }

  /**
   * Connects, subscribes and starts consuming. Resolves when the consumer runs (the group join
   * happens in the background; `status().ready` turns true after it).
   *
   * @throws kafkajs errors when the broker is unreachable or a topic does not exist.
   */
  async start(): Promise<void> {
    if (this.current.state !== "idle") throw new Error(`consumer already ${this.current.state}`);
    this.current.state = "starting";
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: this.options.fromBeginning ?? true });
    this.current.state = "running";
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /**
   * Graceful shutdown within `deadlineMs` (default 10 000): stop fetching, let the message in
   * flight finish (retries are abandoned, the message will be redelivered), commit the offsets of
   * everything applied, leave the group, disconnect. Resolves `{ timedOut: true }` when the
   * deadline passed first; whatever was not committed is redelivered to the next owner and the
   * inbox makes that a no-op.
   */
  async stop(deadlineMs = 10_000): Promise<{ timedOut: boolean }> {
    if (this.current.state === "stopped") return { timedOut: false };
    this.current.state = "stopping";
    this.current.ready = false;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.consumer.disconnect().then(() => false),
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
    let uncommitted: string | undefined;
    let sinceCommit = 0;
    const commit = async () => {
      if (uncommitted === undefined) return;
      await commitOffsetsIfNecessary({
        topics: [{ topic, partitions: [{ partition, offset: uncommitted }] }],
      });
      uncommitted = undefined;
      sinceCommit = 0;
    };
    try {
      const messages = batch.messages;
      for (let index = 0; index < messages.length; index += 1) {
        const message = messages[index];
        if (!message || !isRunning() || isStale()) break;
        let outcome: MessageOutcome;
        try {
          outcome = await this.process(topic, partition, message, { heartbeat, isRunning });
        } catch (error) {
          if (error instanceof Aborted) break;
          throw error;
        }
        resolveOffset(message.offset);
        uncommitted = (BigInt(message.offset) + 1n).toString();
        this.settle(outcome, uncommitted);
        if (outcome.kind === "applied") this.fault.reached("consumer.after-db-commit");
        if (messages.length > 1 && index + 1 === Math.ceil(messages.length / 2)) {
          this.fault.reached("consumer.mid-batch");
        }
        sinceCommit += 1;
        if (sinceCommit >= this.commitEvery) await commit();
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

  private settle(outcome: MessageOutcome, nextOffset: string): void {
    this.current.counts[outcome.kind] += 1;
    this.current.positions[`${outcome.topic}/${outcome.partition}`] = nextOffset;
    this.current.lastSettledAt = new Date().toISOString();
    this.options.onOutcome?.(outcome);
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
