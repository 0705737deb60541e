import { readFileSync } from "node:fs";
import { buildSubgraphSchema } from "@apollo/subgraph";
import {
  createPublisher,
  createRelay,
  ReadYourWrites,
  type BoxofficeEventDefinition,
  type EventConsumer,
  type EventRegistry,
} from "@boxoffice/events";
import {
  connectKafka,
  eventNames,
  eventsLogger,
  startService,
  type Logger,
  type RunningService,
  kafkaSecurity,
} from "@boxoffice/service-kit";
import type { SessionDenylist } from "@boxoffice/service-kit/denylist";
import { createSubgraphAuth } from "@boxoffice/service-kit/subgraph-auth";
import { parse } from "graphql";
import type { PaymentsContext } from "./context.ts";
import { createPrisma, PAYMENTS_SCHEMA, type PaymentsTx } from "./db.ts";
import type { PaymentsEnv } from "./env.ts";
import { createOrderReplicaConsumer } from "./events/order-replica.consumer.ts";
import { PRODUCER } from "./events/payment-events.ts";
import type { PaymentProvider } from "./providers/payment-provider.ts";
import { createSandboxProvider } from "./providers/sandbox.ts";
import { resolvers } from "./resolvers/index.ts";
import { createReconciliationWorker, type ReconciliationWorker } from "./reconciliation.worker.ts";
import { createRefundWorker, type RefundWorker } from "./refund.worker.ts";
import { createPaymentsServices, type PaymentsServices } from "./services.ts";

const typeDefs = parse(readFileSync(new URL("./schema.graphql", import.meta.url), "utf8"));

export interface PaymentsApp {
  service: RunningService;
  services: PaymentsServices;
  /** The `session.revoked` consumer and the `isRevoked` hook. */
  denylist: SessionDenylist;
  /** The order-event consumer (`<namespace>.order-replica`). */
  orders: EventConsumer<BoxofficeEventDefinition, PaymentsTx>;
  /** Returns captured payments of cancelled orders (refund.worker.ts). */
  refunds: RefundWorker;
  /** Settles payments left PENDING by lost responses, crashes or abandoned retries. */
  reconciliation: ReconciliationWorker;
  /** Stops HTTP, the consumers, the relay and Prisma, in that order. */
  stop: () => Promise<void>;
}

export interface PaymentsOptions {
  /** Called with every SQL statement (tests count round trips). */
  onQuery?: (sql: string) => void;
  /** Event registry (default: the standard topics, under `KAFKA_NAMESPACE` when set); tests pass one with unique topic names. */
  registry?: EventRegistry<BoxofficeEventDefinition>;
  /** Consumer-group namespace (default `payments`, or `<KAFKA_NAMESPACE>.payments`); tests pass a unique one. */
  consumerGroupNamespace?: string;
  /**
   * The payment provider (default: the one PAYMENTS_PROVIDER names, i.e. a new sandbox). Tests pass a
   * sandbox they can inspect, or a double of the provider's network.
   */
  provider?: PaymentProvider;
  /** See `PaymentsServicesOptions.attemptLeaseMs` (default 30 000). */
  attemptLeaseMs?: number;
  /** Overrides PAYMENTS_ABANDON_AFTER_SECONDS, in ms (tests: a few seconds, above their short lease). */
  abandonAfterMs?: number;
}

/**
 * Starts the payments subgraph: HTTP (GraphQL at /graphql, /healthz, /readyz), the outbox relay, the
 * session-denylist consumer and the order-replica consumer.
 *
 * @throws when the database or Kafka is unreachable at start, or the port is taken.
 */
export async function startPayments(
  env: PaymentsEnv,
  logger: Logger,
  options: PaymentsOptions = {},
): Promise<PaymentsApp> {
  const names = eventNames("payments", env.KAFKA_NAMESPACE);
  const registry = options.registry ?? names.registry;
  const namespace = options.consumerGroupNamespace ?? names.consumerGroupNamespace;
  const log = eventsLogger(logger);
  const prisma = createPrisma(env.DATABASE_URL, options.onQuery);
  await prisma.$queryRaw`SELECT 1`;

  const kafka = await connectKafka({
    security: kafkaSecurity(env),
    clientId: PRODUCER,
    brokers: env.KAFKA_BROKERS,
    registry,
    logger: log,
    topics: { partitions: env.KAFKA_TOPIC_PARTITIONS, replicationFactor: env.KAFKA_REPLICATION_FACTOR },
  });
  const publisher = createPublisher({ registry, producer: PRODUCER });

  const sessionAuth = createSubgraphAuth<PaymentsTx>({
    env,
    service: namespace,
    kafka,
    db: prisma,
    transaction: (fn) => prisma.$transaction(fn),
    registry,
    logger: log,
  });
  const { denylist, verifier } = sessionAuth;
  // PAYMENTS_PROVIDER has one value today: "sandbox".
  const provider = options.provider ?? createSandboxProvider();
  const services = createPaymentsServices({
    prisma,
    verifier,
    publisher,
    provider,
    logger,
    ...(options.attemptLeaseMs !== undefined ? { attemptLeaseMs: options.attemptLeaseMs } : {}),
    expiryMarginMs: env.PAYMENTS_EXPIRY_MARGIN_SECONDS * 1000,
  });
  const refunds = createRefundWorker({
    prisma,
    provider,
    publisher,
    pollIntervalMs: env.PAYMENTS_REFUND_POLL_MS,
    ...(options.attemptLeaseMs !== undefined ? { attemptLeaseMs: options.attemptLeaseMs } : {}),
    logger: log,
  });
  const reconciliation = createReconciliationWorker({
    prisma,
    provider,
    publisher,
    pollIntervalMs: env.PAYMENTS_RECONCILE_POLL_MS,
    abandonAfterMs: options.abandonAfterMs ?? env.PAYMENTS_ABANDON_AFTER_SECONDS * 1000,
    ...(options.attemptLeaseMs !== undefined ? { attemptLeaseMs: options.attemptLeaseMs } : {}),
    logger: log,
  });
  const orders = createOrderReplicaConsumer({ service: namespace, kafka, prisma, registry, logger: log });
  const relay = createRelay({
    connectionString: env.DATABASE_URL,
    schema: PAYMENTS_SCHEMA,
    kafka,
    logger: log,
  });

  await relay.start();
  await sessionAuth.signingKeys.start();
  await denylist.start();
  await orders.start();
  refunds.start();
  reconciliation.start();

  // Read-your-writes (`waitFor` arguments): the consumer groups whose read models the queries read.
  const consistency = new ReadYourWrites(prisma, [orders], { timeoutMs: env.CONSISTENCY_WAIT_MS });
  const service = await startService<PaymentsContext>({
    name: "payments",
    port: env.PAYMENTS_PORT,
    gatewaySecret: env.GATEWAY_SHARED_SECRET,
    host: env.PAYMENTS_HOST,
    logger,
    schema: buildSubgraphSchema({ typeDefs, resolvers }),
    context: async ({ req, scope }) => ({
      ...scope,
      ...(await sessionAuth.context({ req })),
      services,
      consistency,
      loaders: { payment: services.paymentLoader() },
    }),
    readiness: [
      { name: "database", check: async () => (await prisma.$queryRaw`SELECT 1`, true) },
      { name: "outbox-relay", check: () => relay.status().ready },
      { name: "session-denylist", check: () => denylist.status().ready },
      { name: "signing-keys", check: () => sessionAuth.signingKeys.status().ready },
      { name: "order-replica-consumer", check: () => orders.status().ready },
    ],
    shutdown: [
      { name: "session-denylist consumer", run: async () => void (await denylist.stop()) },
      { name: "signing-keys consumer", run: async () => void (await sessionAuth.signingKeys.stop()) },
      { name: "order-replica consumer", run: async () => void (await orders.stop()) },
      { name: "refund worker", run: () => refunds.stop() },
      { name: "reconciliation worker", run: () => reconciliation.stop() },
      { name: "outbox relay", run: async () => void (await relay.stop()) },
      { name: "prisma", run: () => prisma.$disconnect() },
    ],
  });
  return { service, services, denylist, orders, refunds, reconciliation, stop: service.stop };
}
