/**
 * Operator tooling behind the CLI: read a topic range, list and inspect dead letters, replay dead
 * letters or a time range of a topic into one consumer group.
 *
 * Replay re-produces messages to their original topic (same key, so same partition) with the
 * header `boxoffice-replay-for: <group>`. Consumers of other groups acknowledge and skip such
 * messages; the target group applies them through its inbox, so a replay of something already
 * applied is a no-op, and replicas ignore stale versions (apply.ts). Re-producing instead of
 * rewinding the group's offsets means the live group keeps running while a replay happens.
 */
import { randomUUID } from "node:crypto";
import type { IHeaders, Kafka } from "kafkajs";
import { HEADERS } from "./envelope.ts";
import { headersToStrings } from "./consumer.ts";
import { ACKS_ALL, createEventProducer } from "./kafka.ts";

/** One message read from a topic. */
export interface TopicRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Broker timestamp, ms since the epoch. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  rawHeaders: IHeaders;
}

export interface ReadTopicOptions {
  topic: string;
  /** Only messages with timestamp ≥ from (ms since the epoch). */
  fromTimestamp?: number;
  /** Only messages with timestamp ≤ to (ms since the epoch). */
  toTimestamp?: number;
  /** Give up after this long, ms (default 60 000). */
  timeoutMs?: number;
}

/**
 * Reads a topic from its start (or from `fromTimestamp`) up to the end offsets seen when the call
 * began, with a throwaway consumer group that commits nothing and is deleted afterwards.
 *
 * @returns the records ordered by partition, then offset.
 * @throws Error when the range could not be read within `timeoutMs`; kafkajs errors for a missing
 *   topic or an unreachable broker.
 */
export async function readTopic(kafka: Kafka, options: ReadTopicOptions): Promise<TopicRecord[]> {
  const { topic } = options;
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `boxoffice-events-tool.${randomUUID()}`;
  try {
    const ends = new Map<number, bigint>();
    const starts = new Map<number, bigint>();
    for (const p of await admin.fetchTopicOffsets(topic)) {
      ends.set(p.partition, BigInt(p.high));
      starts.set(p.partition, BigInt(p.low));
    }
    if (options.fromTimestamp !== undefined) {
      for (const p of await admin.fetchTopicOffsetsByTimestamp(topic, options.fromTimestamp)) {
        const end = ends.get(p.partition) ?? 0n;
        const offset = BigInt(p.offset);
        starts.set(p.partition, offset < 0n || offset > end ? end : offset);
      }
    }
    const pending = new Set([...ends].filter(([p, end]) => (starts.get(p) ?? 0n) < end).map(([p]) => p));
    const records: TopicRecord[] = [];
    if (pending.size === 0) return records;

    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      let finish: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (finish = resolve));
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const start = starts.get(batch.partition) ?? 0n;
          const end = ends.get(batch.partition) ?? 0n;
          for (const m of batch.messages) {
            const offset = BigInt(m.offset);
            if (offset < start || offset >= end) continue;
            const timestamp = Number(m.timestamp);
            if (options.toTimestamp !== undefined && timestamp > options.toTimestamp) continue;
            if (options.fromTimestamp !== undefined && timestamp < options.fromTimestamp) continue;
            records.push({
              topic,
              partition: batch.partition,
              offset: m.offset,
              timestamp,
              key: m.key,
              value: m.value,
              headers: headersToStrings(m.headers),
              rawHeaders: m.headers ?? {},
            });
          }
          if (BigInt(batch.lastOffset()) + 1n >= end) pending.delete(batch.partition);
          if (pending.size === 0) finish();
          await Promise.resolve();
        },
      });
      for (const [partition, offset] of starts) {
        if (pending.has(partition)) consumer.seek({ topic, partition, offset: offset.toString() });
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        done.then(() => false),
        new Promise<boolean>(
          (resolve) => (timer = setTimeout(() => resolve(true), options.timeoutMs ?? 60_000)),
        ),
      ]);
      clearTimeout(timer);
      if (timedOut) throw new Error(`reading ${topic} did not reach its end offsets in time`);
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  } finally {
    await admin.disconnect();
  }
}

/** A dead-lettered message with its failure details (from the `dlq-*` headers). */
export interface DeadLetter {
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  eventId?: string;
  eventType?: string;
  reason?: string;
  errorName?: string;
  errorMessage?: string;
  originalTopic?: string;
  originalPartition?: number;
  originalOffset?: string;
  attempts?: number;
  failedAt?: string;
  consumerGroup?: string;
  /** The original message value (UTF-8). */
  value: string | null;
  headers: Record<string, string>;
}

function toDeadLetter(record: TopicRecord): DeadLetter {
  const h = record.headers;
  const optional = <K extends string, V>(key: K, value: V | undefined) =>
    value === undefined ? {} : ({ [key]: value } as Record<K, V>);
  return {
    partition: record.partition,
    offset: record.offset,
    timestamp: new Date(record.timestamp).toISOString(),
    key: record.key?.toString() ?? null,
    ...optional("eventId", h[HEADERS.eventId]),
    ...optional("eventType", h[HEADERS.eventType]),
    ...optional("reason", h[HEADERS.dlqReason]),
    ...optional("errorName", h[HEADERS.dlqErrorName]),
    ...optional("errorMessage", h[HEADERS.dlqErrorMessage]),
    ...optional("originalTopic", h[HEADERS.dlqOriginalTopic]),
    ...optional(
      "originalPartition",
      h[HEADERS.dlqOriginalPartition] === undefined ? undefined : Number(h[HEADERS.dlqOriginalPartition]),
    ),
    ...optional("originalOffset", h[HEADERS.dlqOriginalOffset]),
    ...optional(
      "attempts",
      h[HEADERS.dlqAttempts] === undefined ? undefined : Number(h[HEADERS.dlqAttempts]),
    ),
    ...optional("failedAt", h[HEADERS.dlqFailedAt]),
    ...optional("consumerGroup", h[HEADERS.dlqConsumerGroup]),
    value: record.value?.toString("utf8") ?? null,
    headers: h,
  };
}

/** Every message currently in a dead-letter topic (`<topic>.dlq`), oldest first per partition. */
export async function listDeadLetters(
  kafka: Kafka,
  deadLetterTopic: string,
  options: { timeoutMs?: number } = {},
): Promise<DeadLetter[]> {
  const records = await readTopic(kafka, { topic: deadLetterTopic, ...options });
  return records.map(toDeadLetter);
}

function replayHeaders(raw: IHeaders, groupId: string, from: string): IHeaders {
  const kept: IHeaders = Object.fromEntries(
    Object.entries(raw).filter(
      ([k, v]) =>
        v !== undefined && !k.startsWith("dlq-") && k !== HEADERS.replayFor && k !== HEADERS.replayedFrom,
    ),
  );
  return { ...kept, [HEADERS.replayFor]: groupId, [HEADERS.replayedFrom]: from };
}

async function produce(
  kafka: Kafka,
  messages: Array<{ topic: string; key: Buffer | null; value: Buffer | null; headers: IHeaders }>,
): Promise<void> {
  if (messages.length === 0) return;
  const producer = createEventProducer(kafka);
  await producer.connect();
  try {
    const byTopic = new Map<string, typeof messages>();
    for (const m of messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m]);
    await producer.sendBatch({
      acks: ACKS_ALL,
      topicMessages: [...byTopic].map(([topic, ms]) => ({
        topic,
        messages: ms.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

export interface ReplayDeadLettersOptions {
  deadLetterTopic: string;
  /** Target group; default: the group recorded in each dead letter's `dlq-consumer-group`. */
  groupId?: string;
  /** Only these dead letters (default all). */
  select?: (deadLetter: DeadLetter) => boolean;
}

/**
 * Re-produces dead letters to their original topics for one consumer group (see module comment).
 * The dead-letter topic is left as is (Kafka topics are append-only); replaying twice is harmless.
 *
 * @returns the replayed dead letters.
 * @throws Error when a dead letter has no original topic or no group can be determined.
 */
export async function replayDeadLetters(
  kafka: Kafka,
  options: ReplayDeadLettersOptions,
): Promise<DeadLetter[]> {
  const records = await readTopic(kafka, { topic: options.deadLetterTopic });
  const chosen = records.filter((r) => options.select?.(toDeadLetter(r)) ?? true);
  const messages = chosen.map((r) => {
    const dl = toDeadLetter(r);
    const groupId = options.groupId ?? dl.consumerGroup;
    if (!dl.originalTopic) throw new Error(`dead letter ${r.partition}/${r.offset} has no original topic`);
    if (!groupId) throw new Error(`dead letter ${r.partition}/${r.offset}: no consumer group; pass one`);
    return {
      topic: dl.originalTopic,
      key: r.key,
      value: r.value,
      headers: replayHeaders(r.rawHeaders, groupId, `${options.deadLetterTopic}/${r.partition}/${r.offset}`),
    };
  });
  await produce(kafka, messages);
  return chosen.map(toDeadLetter);
}

/**
 * Re-produces every message of `topic` whose timestamp is within [from, to] for one consumer group,
 * in their original per-partition order.
 *
 * @returns how many messages were replayed.
 */
export async function replayTopicRange(
  kafka: Kafka,
  options: { topic: string; groupId: string; from: Date; to: Date },
): Promise<number> {
  const records = await readTopic(kafka, {
    topic: options.topic,
    fromTimestamp: options.from.getTime(),
    toTimestamp: options.to.getTime(),
  });
  await produce(
    kafka,
    records.map((r) => ({
      topic: options.topic,
      key: r.key,
      value: r.value,
      headers: replayHeaders(r.rawHeaders, options.groupId, `${options.topic}/${r.partition}/${r.offset}`),
    })),
  );
  return records.length;
}
