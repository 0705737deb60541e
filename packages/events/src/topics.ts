/**
 * The admin step that creates event topics (broker auto-creation stays off, so a topic exists only
 * because this step declared it, with the partitions and replication chosen here).
 */
import type { Kafka } from "kafkajs";
import type { AnyEventDefinition, EventRegistry } from "./registry.ts";

/** The dead-letter topic of an event topic: `<topic>.dlq`. */
export function deadLetterTopicOf(topic: string): string {
  return `${topic}.dlq`;
}

export interface TopicSpec {
  topic: string;
  /**
   * Partitions bound consumer parallelism. Choose once: adding partitions later moves keys to other
   * partitions and breaks per-aggregate order for in-flight events (Kafka docs, "Modifying topics").
   */
  partitions: number;
  /** 3 in production (with min.insync.replicas=2), 1 on a single local broker. */
  replicationFactor: number;
  /** Extra topic configs, e.g. `{ "retention.ms": "-1" }` for a topic read models rebuild from. */
  config?: Record<string, string>;
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** Existing topics whose partition count differs from the spec (never changed automatically). */
  mismatched: Array<{ topic: string; expected: number; actual: number }>;
}

/**
 * The specs for every topic of a registry plus their dead-letter topics.
 * `min.insync.replicas` is min(2, replicationFactor): with acks=all a write then survives one broker loss.
 */
export function topicSpecsFor<D extends AnyEventDefinition>(
  registry: EventRegistry<D>,
  options: { partitions: number; replicationFactor: number; deadLetterPartitions?: number },
): TopicSpec[] {
  const config = { "min.insync.replicas": String(Math.min(2, options.replicationFactor)) };
  return registry.topics().flatMap((topic) => [
    { topic, partitions: options.partitions, replicationFactor: options.replicationFactor, config },
    {
      topic: deadLetterTopicOf(topic),
      partitions: options.deadLetterPartitions ?? 1,
      replicationFactor: options.replicationFactor,
      config,
    },
  ]);
}

/**
 * Creates the topics that do not exist yet and waits for their leaders. Idempotent: existing topics
 * are left alone and reported (with a partition-count mismatch, if any).
 *
 * @throws kafkajs errors when the broker is unreachable or refuses (e.g. replication factor larger
 *   than the number of brokers).
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[]): Promise<EnsureTopicsResult> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !present.has(s.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor,
          configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    const existing = specs.filter((s) => present.has(s.topic));
    const mismatched: EnsureTopicsResult["mismatched"] = [];
    if (existing.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: existing.map((s) => s.topic) });
      for (const t of metadata.topics) {
        const spec = existing.find((s) => s.topic === t.name);
        if (spec && spec.partitions !== t.partitions.length) {
          mismatched.push({ topic: t.name, expected: spec.partitions, actual: t.partitions.length });
        }
      }
    }
    return { created: missing.map((s) => s.topic), existing: existing.map((s) => s.topic), mismatched };
  } finally {
    await admin.disconnect();
  }
}
