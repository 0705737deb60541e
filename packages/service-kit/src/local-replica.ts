/**
 * What the session denylist (denylist.ts) and the signing-key replica (signing-keys.ts) share: a
 * table in the service's own schema, fed through the inbox by one consumer group of the service,
 * `<service>.<purpose>`, reading from the beginning of its topics (a new service needs every
 * revocation and every key), with a short fetch wait because both have a latency budget of about a
 * second.
 */
import {
  boxofficeRegistry,
  createConsumer,
  type BoxofficeEventDefinition,
  type ConsumerOptions,
  type EventConsumer,
  type EventRegistry,
  type EventsLogger,
  type HandlerMap,
  type MessageOutcome,
  type SqlExecutor,
  type TransactionRunner,
} from "@boxoffice/events";

/** Options of a local replica fed by events (denylist, signing keys). */
export interface LocalReplicaOptions<Tx extends SqlExecutor> {
  /** The service's consumer-group namespace, e.g. `tickets`: the group is `<service>.<purpose>`. */
  service: string;
  kafka: ConsumerOptions<BoxofficeEventDefinition, Tx>["kafka"];
  /** Reads the table (a Prisma client or `pgExecutor(pool)` whose search_path is the service schema). */
  db: SqlExecutor;
  /** Runs the consumer's inbox insert and the table write in one transaction: `(fn) => prisma.$transaction(fn)`. */
  transaction: TransactionRunner<Tx>;
  /** Default `boxofficeRegistry`; tests pass `boxofficeRegistry.withTopics(…)` for unique topics. */
  registry?: EventRegistry<BoxofficeEventDefinition>;
  /** Inbox table (default `event_inbox` through search_path). */
  inboxTable?: string;
  /** Fetch long-poll wait, ms (default 100: the latency budget is about a second). */
  maxWaitTimeInMs?: number;
  logger?: EventsLogger;
  /** Called after each message is settled (metrics, tests). */
  onOutcome?: (outcome: MessageOutcome) => void;
}

/**
 * The consumer of a local replica: group `<service>.<purpose>`, the given handlers, `onOutcome`
 * called after the caller's own `afterOutcome` (e.g. an immediate reload).
 *
 * @throws UnknownEventError when a handler names an unregistered type; EventsConfigError for a bad
 *   `inboxTable` name.
 */
export function localReplicaConsumer<Tx extends SqlExecutor>(
  options: LocalReplicaOptions<Tx>,
  purpose: string,
  handlers: HandlerMap<BoxofficeEventDefinition, Tx>,
  afterOutcome?: (outcome: MessageOutcome) => void,
): EventConsumer<BoxofficeEventDefinition, Tx> {
  const { onOutcome } = options;
  return createConsumer<BoxofficeEventDefinition, Tx>({
    kafka: options.kafka,
    groupId: `${options.service}.${purpose}`,
    registry: options.registry ?? boxofficeRegistry,
    transaction: options.transaction,
    handlers,
    ...(options.inboxTable !== undefined ? { inboxTable: options.inboxTable } : {}),
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 100,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(afterOutcome || onOutcome
      ? {
          onOutcome: (outcome: MessageOutcome) => {
            afterOutcome?.(outcome);
            onOutcome?.(outcome);
          },
        }
      : {}),
  });
}
