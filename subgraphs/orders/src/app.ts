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
import type { OrdersContext } from "./context.ts";
import { createPrisma, ORDERS_SCHEMA, type OrdersTx } from "./db.ts";
import type { OrdersEnv } from "./env.ts";
import { PRODUCER } from "./events/order-events.ts";
import { createPaymentsConsumer } from "./events/payments.consumer.ts";
import { createTicketReplicaConsumer } from "./events/ticket-replica.consumer.ts";
import { createOrderExpirationWorker, type OrderExpirationWorker } from "./order-expiration.worker.ts";
import { resolvers } from "./resolvers/index.ts";
import { createOrdersServices, type OrdersServices } from "./services.ts";

const typeDefs = parse(readFileSync(new URL("./schema.graphql", import.meta.url), "utf8"));

export interface OrdersApp {
  service: RunningService;
  services: OrdersServices;
  /** The `session.revoked` consumer and the `isRevoked` hook. */
  denylist: SessionDenylist;
  /** The ticket-event consumer (`<namespace>.ticket-replica`). */
  tickets: EventConsumer<BoxofficeEventDefinition, OrdersTx>;
  /** The payment-event consumer (`<namespace>.payments`). */
  payments: EventConsumer<BoxofficeEventDefinition, OrdersTx>;
  /** The durable order timer. */
  expiration: OrderExpirationWorker;
  /** Stops HTTP, the consumers, the expiration worker, the relay and Prisma, in that order. */
  stop: () => Promise<void>;
}

export interface OrdersOptions {
  /** Called with every SQL statement (tests count round trips). */
  onQuery?: (sql: string) => void;
  /** Event registry (default: the standard topics, under `KAFKA_NAMESPACE` when set); tests pass one with unique topic names. */
  registry?: EventRegistry<BoxofficeEventDefinition>;
  /** Consumer-group namespace (default `orders`, or `<KAFKA_NAMESPACE>.orders`); tests pass a unique one. */
  consumerGroupNamespace?: string;
  /** Start the expiration worker (default true); tests of the worker itself run their own. */
  expirationWorker?: boolean;
}

/**
 * Starts the orders subgraph: HTTP (GraphQL at /graphql, /healthz, /readyz), the outbox relay, the
 * session-denylist consumer, the ticket-replica and payments consumers, and the expiration worker.
 *
 * @throws when the database or Kafka is unreachable at start, or the port is taken.
 */
export async function startOrders(
  env: OrdersEnv,
  logger: Logger,
  options: OrdersOptions = {},
): Promise<OrdersApp> {
  const names = eventNames("orders", env.KAFKA_NAMESPACE);
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

  const sessionAuth = createSubgraphAuth<OrdersTx>({
    env,
    service: namespace,
    kafka,
    db: prisma,
    transaction: (fn) => prisma.$transaction(fn),
    registry,
    logger: log,
  });
  const { denylist, verifier } = sessionAuth;
  const services = createOrdersServices(prisma, verifier, publisher, logger, env.ORDER_EXPIRATION_SECONDS, {
    maxPendingPerBuyer: env.ORDERS_MAX_PENDING_PER_BUYER,
    reorderCooldownSeconds: env.ORDERS_REORDER_COOLDOWN_SECONDS,
  });
  const tickets = createTicketReplicaConsumer({ service: namespace, kafka, prisma, registry, logger: log });
  const payments = createPaymentsConsumer({
    service: namespace,
    kafka,
    prisma,
    registry,
    publisher,
    logger: log,
  });
  const expiration = createOrderExpirationWorker({
    prisma,
    publisher,
    pollIntervalMs: env.ORDER_EXPIRATION_POLL_MS,
    graceSeconds: env.ORDER_EXPIRATION_GRACE_SECONDS,
    logger: log,
  });
  const relay = createRelay({
    connectionString: env.DATABASE_URL,
    schema: ORDERS_SCHEMA,
    kafka,
    logger: log,
  });

  await relay.start();
  await sessionAuth.signingKeys.start();
  await denylist.start();
  await tickets.start();
  await payments.start();
  if (options.expirationWorker ?? true) expiration.start();

  // Read-your-writes (`waitFor` arguments): the consumer groups whose read models the queries read.
  const consistency = new ReadYourWrites(prisma, [tickets, payments], { timeoutMs: env.CONSISTENCY_WAIT_MS });
  const service = await startService<OrdersContext>({
    name: "orders",
    port: env.ORDERS_PORT,
    gatewaySecret: env.GATEWAY_SHARED_SECRET,
    host: env.ORDERS_HOST,
    logger,
    schema: buildSubgraphSchema({ typeDefs, resolvers }),
    context: async ({ req, scope }) => ({
      ...scope,
      ...(await sessionAuth.context({ req })),
      services,
      consistency,
      loaders: { order: services.orderLoader() },
    }),
    readiness: [
      { name: "database", check: async () => (await prisma.$queryRaw`SELECT 1`, true) },
      { name: "outbox-relay", check: () => relay.status().ready },
      { name: "session-denylist", check: () => denylist.status().ready },
      { name: "signing-keys", check: () => sessionAuth.signingKeys.status().ready },
      { name: "ticket-replica-consumer", check: () => tickets.status().ready },
      { name: "payments-consumer", check: () => payments.status().ready },
    ],
    shutdown: [
      { name: "session-denylist consumer", run: async () => void (await denylist.stop()) },
      { name: "signing-keys consumer", run: async () => void (await sessionAuth.signingKeys.stop()) },
      { name: "ticket-replica consumer", run: async () => void (await tickets.stop()) },
      { name: "payments consumer", run: async () => void (await payments.stop()) },
      { name: "order expiration worker", run: () => expiration.stop() },
      { name: "outbox relay", run: async () => void (await relay.stop()) },
      { name: "prisma", run: () => prisma.$disconnect() },
    ],
  });
  return { service, services, denylist, tickets, payments, expiration, stop: service.stop };
}
