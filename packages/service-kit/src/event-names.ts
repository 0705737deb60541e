import {
  boxofficeRegistry,
  createKafka,
  ensureTopics,
  topicSpecsFor,
  type BoxofficeEventDefinition,
  type EventRegistry,
  type EventsLogger,
} from "@boxoffice/events";

/** Where a service's events travel: its topics and the namespace of its consumer groups. */
export interface EventNames {
  /** `boxofficeRegistry`, with every topic prefixed `<namespace>.` when a namespace is set. */
  registry: EventRegistry<BoxofficeEventDefinition>;
  /** `<service>` or `<namespace>.<service>`: consumer groups are `<this>.<consumer>`. */
  consumerGroupNamespace: string;
}

/**
 * The topic and consumer-group names of `service` under the optional `KAFKA_NAMESPACE`. Unset (the
 * normal case) gives the standard names (`boxoffice.tickets.v1`, `orders.ticket-replica`, …); set, every
 * topic becomes `<namespace>.<topic>` and every group `<namespace>.<service>.<consumer>`, so two
 * deployments on one cluster neither read each other's events nor split each other's consumer groups.
 * Every service of one deployment must use the same namespace.
 *
 * @param namespace a validated `KAFKA_NAMESPACE` (`envFields.kafkaNamespace`), or undefined.
 * @throws EventsConfigError for a namespace Kafka would refuse in a topic name.
 */
export function eventNames(service: string, namespace: string | undefined): EventNames {
  return namespace
    ? {
        registry: boxofficeRegistry.withTopicPrefix(namespace),
        consumerGroupNamespace: `${namespace}.${service}`,
      }
    : { registry: boxofficeRegistry, consumerGroupNamespace: service };
}

/** The topic layout of a deployment: `KAFKA_TOPIC_PARTITIONS` and `KAFKA_REPLICATION_FACTOR`. */
export interface TopicLayout {
  /** Partitions per event topic: the most instances of one consumer group that get work. */
  partitions: number;
  /** Replicas per topic; 3 on a cluster (then `min.insync.replicas` 2), 1 on one local broker. */
  replicationFactor: number;
}

/** Without configuration: 3 partitions (per-aggregate order, up to 3 busy consumers), one replica. */
export const DEFAULT_TOPIC_LAYOUT: TopicLayout = { partitions: 3, replicationFactor: 1 };

/**
 * A service's Kafka client, with every topic of `registry` (and its dead-letter topic) declared —
 * broker auto-creation is off, so each service declares what it uses at start, with the layout its
 * environment gives (`topics`, default `DEFAULT_TOPIC_LAYOUT`). Every service of a deployment must
 * be given the same layout: the first to start creates a topic, and later ones only report a
 * different partition count (`ensureTopics` never changes partitions).
 *
 * @throws kafkajs errors when the broker is unreachable or refuses the topics (e.g. a replication
 *   factor above the number of brokers: INVALID_REPLICATION_FACTOR).
 */
export async function connectKafka(options: {
  clientId: string;
  brokers: string[];
  registry: EventRegistry<BoxofficeEventDefinition>;
  logger: EventsLogger;
  topics?: TopicLayout;
  /** TLS and SASL (`kafkaSecurity(env)`); default plaintext without authentication. */
  security?: Pick<Parameters<typeof createKafka>[0], "ssl" | "sasl">;
}): Promise<ReturnType<typeof createKafka>> {
  const kafka = createKafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logger: options.logger,
    ...options.security,
  });
  await ensureTopics(kafka, topicSpecsFor(options.registry, options.topics ?? DEFAULT_TOPIC_LAYOUT));
  return kafka;
}
