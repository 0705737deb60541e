/**
 * Kafka client construction with the settings this package relies on.
 */
import {
  Kafka,
  logLevel as KafkaLogLevel,
  Partitioners,
  type KafkaConfig,
  type LogEntry,
  type Producer,
} from "kafkajs";
import type { EventsLogger } from "./logger.ts";

export interface KafkaClientOptions {
  /** Shows up in broker logs and quotas, e.g. `tickets`. */
  clientId: string;
  /** `host:port` list. */
  brokers: string[];
  /** Where kafkajs' own log lines go; default: dropped. */
  logger?: EventsLogger;
  /** kafkajs level forwarded to `logger` (default WARN). */
  logLevel?: KafkaLogLevel;
  /**
   * Client-side request timeout, ms (default 10 000; kafkajs' own default is 30 000, long enough
   * for a stopping broker to stall a relay batch for half a minute).
   */
  requestTimeoutMs?: number;
  /** TLS to the brokers: `true` (system CAs) or Node TLS options (e.g. `{ ca }`). Default off. */
  ssl?: KafkaConfig["ssl"];
  /** SASL authentication (e.g. SCRAM-SHA-512 with username and password). Default none. */
  sasl?: KafkaConfig["sasl"];
}

/** A kafkajs client whose log lines go to an `EventsLogger` (library code never prints). */
export function createKafka(options: KafkaClientOptions): Kafka {
  const logger = options.logger;
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
    ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
    logLevel: logger ? (options.logLevel ?? KafkaLogLevel.WARN) : KafkaLogLevel.NOTHING,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        if (!logger) return;
        const { message, ...fields } = log;
        const line = `kafkajs: ${message}`;
        if (level <= KafkaLogLevel.ERROR) logger.error(line, fields);
        else if (level === KafkaLogLevel.WARN) logger.warn(line, fields);
        else if (level === KafkaLogLevel.INFO) logger.info(line, fields);
        else logger.debug(line, fields);
      },
  });
}

/**
 * A producer for events: idempotent (the broker drops retried duplicates within a producer session)
 * with one request in flight so retries cannot reorder a partition, sending with acks=all
 * (`acks: -1`, required by idempotence). Source: Kafka docs, producer configs `enable.idempotence`,
 * `acks`, `max.in.flight.requests.per.connection`; kafkajs docs "Producing Messages" (idempotent
 * requires maxInFlightRequests 1 in kafkajs). Keys are partitioned with the default murmur2
 * partitioner, the same as the Java client, so every client maps an aggregate id to the same
 * partition. Topic auto-creation is off: a typo fails instead of creating a topic.
 */
export function createEventProducer(
  kafka: Kafka,
  retry?: { retries?: number; maxRetryTime?: number },
): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: {
      retries: retry?.retries ?? 5,
      initialRetryTime: 100,
      maxRetryTime: retry?.maxRetryTime ?? 2_000,
    },
  });
}

/** acks=all for every send (Kafka docs: `acks=all` waits for the full in-sync replica set). */
export const ACKS_ALL = -1;
