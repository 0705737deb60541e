/**
 * @boxoffice/events — typed domain events on Kafka with a transactional outbox, idempotent
 * consumers, per-aggregate ordering and dead letters. See README.md for the guarantees.
 */
export { applyIfNewer, isNewer, type ApplyIfNewerSpec } from "./apply.ts";
export {
  awaitReplicated,
  awaitToken,
  DEFAULT_ARRIVAL_WINDOW_MS,
  DEFAULT_REPLICA_WAIT_MS,
  decodeConsistencyToken,
  encodeConsistencyToken,
  formatConsistencyToken,
  MAX_TOKEN_WRITES,
  mayStillArrive,
  parseConsistencyToken,
  ReadYourWrites,
  uuidv7Time,
  waitUntil,
  type ConsistencyToken,
  type Freshness,
  type InboxReader,
  type ReadModelSource,
} from "./consistency.ts";
export {
  BOXOFFICE_EVENTS,
  BOXOFFICE_TOPICS,
  boxofficeRegistry,
  orderCancelledV1,
  orderCompletedV1,
  orderCreatedV1,
  paymentFailedV1,
  paymentRefundedV1,
  paymentSucceededV1,
  sessionRevokedV1,
  ticketCreatedV1,
  ticketStatus,
  ticketUpdatedV1,
  userRegisteredV1,
  type BoxofficeAggregateType,
  type BoxofficeEventDefinition,
} from "./contracts.ts";
export {
  createConsumer,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  EventConsumer,
  headersToStrings,
  type ConsumerOptions,
  type ConsumerStatus,
  type EventHandler,
  type HandlerMap,
  type MessageContext,
  type MessageOutcome,
  type OutcomeKind,
  type TransactionRunner,
} from "./consumer.ts";
export { envelopeHeaders, envelopeSchema, HEADERS, type EventEnvelope } from "./envelope.ts";
export { EventsConfigError, InvalidEventError, NonRetryableError, UnknownEventError } from "./errors.ts";
export { FAULT_POINTS, parseFaultInjection, type FaultInjection, type FaultPoint } from "./fault.ts";
export { ACKS_ALL, createEventProducer, createKafka, type KafkaClientOptions } from "./kafka.ts";
export { errorMessage, silentLogger, type EventsLogger } from "./logger.ts";
export { createPublisher, type PublishedEvent, type Publisher, type PublisherOptions } from "./outbox.ts";
export { rebuildReadModel, type RebuildOptions, type RebuildResult } from "./rebuild.ts";
export {
  defineEvent,
  EventRegistry,
  type AnyEventDefinition,
  type DecodeResult,
  type EventDefinition,
  type EventDraft,
  type EventOf,
  type EventOfType,
} from "./registry.ts";
export { createRelay, OUTBOX_CHANNEL, OutboxRelay, type RelayOptions, type RelayStatus } from "./relay.ts";
export {
  EVENT_TABLES_SQL,
  installEventTables,
  pgExecutor,
  pgTransaction,
  pgTransactions,
  prismaTransactions,
  quoteIdentifier,
  schemaConnection,
  type PgTransaction,
  type PrismaTransactionOptions,
  type TransactionClientOf,
  type SqlExecutor,
} from "./sql.ts";
export {
  listDeadLetters,
  readTopic,
  replayDeadLetters,
  replayTopicRange,
  type DeadLetter,
  type ReadTopicOptions,
  type ReplayDeadLettersOptions,
  type TopicRecord,
} from "./tooling.ts";
export {
  deadLetterTopicOf,
  ensureTopics,
  topicSpecsFor,
  waitForLeaders,
  type EnsureTopicsResult,
  type TopicSpec,
} from "./topics.ts";
