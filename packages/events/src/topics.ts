/**
 * The admin step that creates event topics (broker auto-creation stays off, so a topic exists only
 * because this step declared it, with the partitions and replication chosen here).
 */
import type { Kafka } from "kafkajs";
import type { AnyEventDefinition, EventRegistry } from "./registry.ts";

/**
 * Kafka's config resource type of a topic (kafkajs `TOPIC_RESOURCE`; the named export is
 * not importable from Node ESM, since kafkajs is CommonJS).
 */
const TOPIC_RESOURCE = 2;

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
  /**
   * Extra topic configs, e.g. `{ "retention.ms": "-1" }` for a topic read models rebuild from. Give
   * each value in the form the broker reports it (describeConfigs): ensureTopics waits until the
   * broker reports exactly these values, and fails at its deadline when one never does.
   */
  config?: Record<string, string>;
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** Existing topics whose partition count differs from the spec (never changed automatically). */
  mismatched: Array<{ topic: string; expected: number; actual: number }>;
  /** Existing topics whose configs were brought to the spec's values (e.g. an older retention). */
  reconfigured: string[];
}

/**
 * The specs for every topic of a registry plus their dead-letter topics.
 * `min.insync.replicas` is min(2, replicationFactor): with acks=all a write then survives one broker loss.
 * `retention.ms` is -1 (keep forever): the event topics are the history every read model is rebuilt
 * from (rebuild.ts), and a dead letter is kept until someone replays it — nothing is lost to the
 * broker's 7-day default (Kafka docs, topic config `retention.ms`).
 */
export function topicSpecsFor<D extends AnyEventDefinition>(
  registry: EventRegistry<D>,
  options: { partitions: number; replicationFactor: number; deadLetterPartitions?: number },
): TopicSpec[] {
  const config = {
    "min.insync.replicas": String(Math.min(2, options.replicationFactor)),
    "retention.ms": "-1",
  };
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
 * Creates the topics that do not exist yet and waits (up to `leaderWaitMs`, default 30 000) until
 * the broker's metadata names a leader for each partition of every topic of the specs. Idempotent: an existing
 * topic keeps its partitions (a mismatch is only reported), and gets the spec's configs where they
 * differ — its other non-default configs are kept (AlterConfigs replaces a topic's dynamic configs
 * as a whole, so they are sent along) — and it returns once the broker reports the new values (the
 * broker kafkajs asks; a KRaft broker applies them a moment after accepting them). Leaders and
 * configs are awaited within one bound, `leaderWaitMs` from the call.
 *
 * The wait is ours, not kafkajs' `createTopics({ waitForLeaders: true })`: that one retries only
 * `LEADER_NOT_AVAILABLE` and fails on `UNKNOWN_TOPIC_OR_PARTITION`, which a KRaft broker answers for
 * a topic it has created but whose metadata record it has not applied yet — seen here when another
 * client was deleting topics at the same time.
 *
 * @throws kafkajs errors when the broker is unreachable or refuses (e.g. replication factor larger
 *   than the number of brokers); Error when the leaders are not known, or the broker still reports
 *   the old configs, within `leaderWaitMs`.
 */
export async function ensureTopics(
  kafka: Kafka,
  specs: TopicSpec[],
  leaderWaitMs = 30_000,
): Promise<EnsureTopicsResult> {
  const deadline = Date.now() + leaderWaitMs;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !present.has(s.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor,
          configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    // Every topic of the specs, not only the ones created here: another process may have created
    // one a moment ago (listed as existing, not usable yet).
    await waitForLeaders(
      admin,
      specs.map((s) => s.topic),
      Math.max(0, deadline - Date.now()),
    );
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
    const reconfigured = existing.length > 0 ? await alignConfigs(admin, existing, deadline) : [];
    return {
      created: missing.map((s) => s.topic),
      existing: existing.map((s) => s.topic),
      mismatched,
      reconfigured,
    };
  } finally {
    await admin.disconnect();
  }
}

/** Kafka errors a just-created topic's metadata answers while the broker is still applying it. */
const NOT_YET_KNOWN = new Set(["UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE"]);

/**
 * Polls the topics' metadata every 100 ms until each partition of each topic has a leader: from
 * then on the broker answers produce, fetch and describeConfigs for them. A KRaft broker answers
 * UNKNOWN_TOPIC_OR_PARTITION for a topic it has created but not yet applied, and kafkajs'
 * `createTopics({ waitForLeaders: true })` retries only LEADER_NOT_AVAILABLE, so it fails there.
 *
 * @param admin a connected kafkajs admin client.
 * @param topics topic names.
 * @param timeoutMs how long to wait, ms.
 * @throws Error naming the topics when some still have no leader after `timeoutMs`; the admin
 * client's error for any other failure than "not known yet".
 */
export async function waitForLeaders(
  admin: ReturnType<Kafka["admin"]>,
  topics: string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      const led = found.filter((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (led.length === topics.length) return;
      last = `leaders known for ${led.length} of ${topics.length} topics`;
    } catch (error) {
      // kafkajs' retrier wraps the protocol error (KafkaJSNumberOfRetriesExceeded, with a cause).
      const e = error as { type?: unknown; cause?: { type?: unknown } };
      const type = e.type ?? e.cause?.type;
      if (typeof type !== "string" || !NOT_YET_KNOWN.has(type)) throw error;
      last = type;
    }
    if (Date.now() > deadline) {
      throw new Error(`topics ${topics.join(", ")} have no leader after ${timeoutMs} ms (${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sets the specs' configs on existing topics whose values differ; returns those topics. */
async function alignConfigs(
  admin: ReturnType<Kafka["admin"]>,
  specs: TopicSpec[],
  deadline: number,
): Promise<string[]> {
  const wanted = specs.filter((s) => Object.keys(s.config ?? {}).length > 0);
  if (wanted.length === 0) return [];
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: wanted.map((s) => ({ type: TOPIC_RESOURCE, name: s.topic })),
  });
  const changed: string[] = [];
  for (const resource of resources) {
    const spec = wanted.find((s) => s.topic === resource.resourceName);
    if (!spec?.config) continue;
    const current = new Map(resource.configEntries.map((e) => [e.configName, e]));
    const differs = Object.entries(spec.config).some(
      ([name, value]) => current.get(name)?.configValue !== value,
    );
    if (!differs) continue;
    const kept = resource.configEntries
      .filter((e) => !e.isDefault && !e.readOnly && !(e.configName in spec.config!))
      .map((e) => ({ name: e.configName, value: e.configValue }));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: TOPIC_RESOURCE,
          name: spec.topic,
          configEntries: [...kept, ...Object.entries(spec.config).map(([name, value]) => ({ name, value }))],
        },
      ],
    });
    changed.push(spec.topic);
  }
  if (changed.length > 0)
    await waitForConfigs(
      admin,
      wanted.filter((s) => changed.includes(s.topic)),
      deadline,
    );
  return changed;
}

/**
 * Polls describeConfigs every 100 ms until every spec's config values are what the broker reports.
 * A KRaft broker applies an accepted alterConfigs when its metadata log reaches the record, a moment
 * later: until then describeConfigs (and the log cleaner) still see the old values.
 *
 * @throws Error naming the topics still showing other values at `deadline` (ms since the epoch).
 */
async function waitForConfigs(admin: ReturnType<Kafka["admin"]>, specs: TopicSpec[], deadline: number) {
  for (;;) {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: specs.map((s) => ({ type: TOPIC_RESOURCE, name: s.topic })),
    });
    const stale = specs.filter((spec) => {
      const current = new Map(
        resources
          .find((r) => r.resourceName === spec.topic)
          ?.configEntries.map((e) => [e.configName, e.configValue]),
      );
      return Object.entries(spec.config ?? {}).some(([name, value]) => current.get(name) !== value);
    });
    if (stale.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`topics ${stale.map((s) => s.topic).join(", ")} still show their old configs`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
