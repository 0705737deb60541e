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

/**
 * A service's Kafka client, with every topic of `registry` (and its dead-letter topic) declared —
 * broker auto-creation is off, so each service declares what it uses at start. One place for the
 * topic layout every service shares: 3 partitions (per-aggregate order, consumer parallelism up to
 * 3) and replication factor 1 (the single local broker; a cluster wants 3).
 *
 * @throws kafkajs errors when the broker is unreachable or refuses the topics.
 */
export async function connectKafka(options: {
  clientId: string;
  brokers: string[];
  registry: EventRegistry<BoxofficeEventDefinition>;
  logger: EventsLogger;
  /** TLS and SASL (`kafkaSecurity(env)`); default plaintext without authentication. */
  security?: Pick<Parameters<typeof createKafka>[0], "ssl" | "sasl">;
}): Promise<ReturnType<typeof createKafka>> {
  const kafka = createKafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logger: options.logger,
    ...options.security,
  });
  await ensureTopics(kafka, topicSpecsFor(options.registry, { partitions: 3, replicationFactor: 1 }));
  return kafka;
}
