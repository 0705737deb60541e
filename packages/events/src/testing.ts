/**
 * Test support for services that consume Boxoffice events (`@boxoffice/events/testing`): topics of
 * their own per test file, derived from the contracts, and "produce these events as their publisher
 * would, then wait until the consumer has settled every one" — written once here instead of in every
 * subgraph's test harness.
 */
import type { Kafka } from "kafkajs";
import { boxofficeRegistry, type BoxofficeEventDefinition } from "./contracts.ts";
import { envelopeHeaders, type EventEnvelope } from "./envelope.ts";
import { ACKS_ALL, createEventProducer } from "./kafka.ts";
import type { EventRegistry } from "./registry.ts";

type Aggregate = BoxofficeEventDefinition["aggregateType"];

/**
 * The Boxoffice registry with every aggregate's topic renamed `<prefix>.<production topic>`, so a
 * test file reads and writes only its own topics; the aggregates in `keep` stay on their production
 * topic (e.g. `user` and `session`, published by the one real accounts process of a test run).
 * Aggregates and topics come from the contracts, so a new aggregate needs no test change.
 */
export function testRegistry(
  prefix: string,
  keep: readonly Aggregate[] = [],
): EventRegistry<BoxofficeEventDefinition> {
  const aggregates = [...new Set(boxofficeRegistry.definitions.map((d) => d.aggregateType))];
  const topics = Object.fromEntries(
    aggregates.map((aggregate) => {
      const topic = boxofficeRegistry.topicFor(aggregate);
      return [aggregate, keep.includes(aggregate) ? topic : `${prefix}.${topic}`];
    }),
  ) as Record<Aggregate, string>;
  return boxofficeRegistry.withTopics(topics);
}

/** The topics of `registry` that start with `prefix.`, with their dead-letter topics: what a test deletes. */
export function ownTopics(registry: EventRegistry<BoxofficeEventDefinition>, prefix: string): string[] {
  return registry
    .topics()
    .filter((topic) => topic.startsWith(`${prefix}.`))
    .flatMap((topic) => [topic, `${topic}.dlq`]);
}

/** `topic/partition` → the offset just after the last message produced there. */
export type ProducedPositions = Map<string, bigint>;

/**
 * Produces `events` in this order, each to its aggregate's topic in `registry`, keyed by aggregate id
 * with the envelope headers — as the relay does — one send per event (so a duplicate is a second
 * message, not folded into one batch entry), `acks: all`.
 *
 * @returns per `topic/partition`, the offset after the last message produced there.
 * @throws Error when Kafka answers without an offset (kafkajs errors pass through).
 */
export async function produceEvents(
  kafka: Kafka,
  registry: EventRegistry<BoxofficeEventDefinition>,
  events: readonly EventEnvelope[],
): Promise<ProducedPositions> {
  const producer = createEventProducer(kafka);
  await producer.connect();
  const produced: ProducedPositions = new Map();
  try {
    for (const event of events) {
      const topic = registry.topicFor(event.aggregateType);
      const [meta] = await producer.send({
        topic,
        acks: ACKS_ALL,
        messages: [{ key: event.aggregateId, value: JSON.stringify(event), headers: envelopeHeaders(event) }],
      });
      if (!meta?.baseOffset) throw new Error("no offset from Kafka");
      const position = `${topic}/${meta.partition}`;
      const after = BigInt(meta.baseOffset) + 1n;
      if ((produced.get(position) ?? 0n) < after) produced.set(position, after);
    }
  } finally {
    await producer.disconnect();
  }
  return produced;
}

/** What a consumer reports: `topic/partition` → the next offset it will read (`ConsumerStatus`). */
export interface ConsumerPositions {
  status(): { positions: Record<string, string | undefined> };
}

/** Has `consumer` settled (applied, skipped as duplicate, or dead-lettered) everything in `produced`? */
export function hasSettled(consumer: ConsumerPositions, produced: ProducedPositions): boolean {
  const { positions } = consumer.status();
  return [...produced].every(([position, after]) => BigInt(positions[position] ?? "0") >= after);
}

/**
 * Produces `events` (see {@link produceEvents}), then polls every 10 ms until `consumer` has settled
 * every one, so a test can assert the final state — "nothing changed" included. Only meaningful when
 * `consumer` is the only member of its consumer group (with replicas, wait on the data instead).
 *
 * @throws Error "<what> not settled within <deadlineMs> ms" at the deadline (default 30 000 ms).
 */
export async function deliverEvents(
  kafka: Kafka,
  registry: EventRegistry<BoxofficeEventDefinition>,
  consumer: ConsumerPositions,
  events: readonly EventEnvelope[],
  options: { deadlineMs?: number; what?: string } = {},
): Promise<void> {
  const produced = await produceEvents(kafka, registry, events);
  const deadlineMs = options.deadlineMs ?? 30_000;
  const start = performance.now();
  while (!hasSettled(consumer, produced)) {
    if (performance.now() - start > deadlineMs) {
      throw new Error(`${options.what ?? "events"} not settled within ${deadlineMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
