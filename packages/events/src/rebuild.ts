/**
 * Rebuilding a read model: replay its topics from the beginning into fresh tables.
 *
 * The rebuild runs a consumer under a NEW group id, so it starts at offset 0 and has its own inbox
 * rows; its handlers write to the fresh tables the caller's `prepare` created (e.g. a new schema).
 * It stops once it has settled every message that existed when it started. Then the caller swaps
 * the tables in (rename in one transaction) and may continue live consumption under the returned
 * group id, whose committed offsets are exactly where the rebuild stopped — no gap, no overlap
 * beyond what the inbox absorbs. Requires topics to retain every event (`retention.ms=-1`, or
 * compaction by aggregate id since events carry full state).
 */
import type { Kafka } from "kafkajs";
import { createConsumer, type ConsumerOptions, type ConsumerStatus } from "./consumer.ts";
import type { AnyEventDefinition } from "./registry.ts";
import type { SqlExecutor } from "./sql.ts";

export interface RebuildOptions<D extends AnyEventDefinition, Tx extends SqlExecutor> extends Omit<
  ConsumerOptions<D, Tx>,
  "fromBeginning" | "groupId"
> {
  /** The live group's id; the rebuild group is `<groupId>.rebuild-<epoch ms>` unless `rebuildGroupId`. */
  groupId: string;
  rebuildGroupId?: string;
  /** Creates the fresh tables before consuming starts. */
  prepare?: () => Promise<void>;
  /** Give up after this long, ms (default 10 minutes). */
  timeoutMs?: number;
}

export interface RebuildResult {
  /** The group the rebuild consumed as (continue live consumption with it after the swap). */
  groupId: string;
  counts: ConsumerStatus["counts"];
  /** How many messages the topics held when the rebuild started. */
  messages: number;
}

/**
 * Replays the consumer's topics from the beginning into fresh tables and resolves when caught up
 * with the end offsets seen at start.
 *
 * @throws Error when not caught up within `timeoutMs` (the consumer is stopped first); kafkajs
 *   errors for unreachable brokers or missing topics; whatever `prepare` throws.
 */
export async function rebuildReadModel<D extends AnyEventDefinition, Tx extends SqlExecutor>(
  options: RebuildOptions<D, Tx>,
): Promise<RebuildResult> {
  const { kafka, registry, handlers } = options;
  const topics = options.topics ?? registry.topicsForTypes(Object.keys(handlers));
  await options.prepare?.();
  const targets = await endOffsets(kafka, topics);
  const groupId = options.rebuildGroupId ?? `${options.groupId}.rebuild-${Date.now()}`;
  const consumer = createConsumer({ ...options, topics, groupId, fromBeginning: true });
  await consumer.start();
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  try {
    for (;;) {
      const { positions, lastError } = consumer.status();
      const caughtUp = targets.every(
        (t) => t.high <= t.low || BigInt(positions[`${t.topic}/${t.partition}`] ?? "0") >= t.high,
      );
      if (caughtUp) break;
      if (Date.now() > deadline)
        throw new Error(
          `rebuild of ${groupId} did not catch up in time${lastError ? ` (last consumer error: ${lastError})` : ""}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await consumer.stop();
  }
  return {
    groupId,
    counts: consumer.status().counts,
    messages: targets.reduce((sum, t) => sum + Number(t.high - t.low), 0),
  };
}

async function endOffsets(
  kafka: Kafka,
  topics: string[],
): Promise<Array<{ topic: string; partition: number; low: bigint; high: bigint }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result: Array<{ topic: string; partition: number; low: bigint; high: bigint }> = [];
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        result.push({ topic, partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) });
      }
    }
    return result;
  } finally {
    await admin.disconnect();
  }
}
