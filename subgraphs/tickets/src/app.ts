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
import type { TicketsContext } from "./context.ts";
import { createPrisma, TICKETS_SCHEMA, type TicketsTx } from "./db.ts";
import type { TicketsEnv } from "./env.ts";
import { createOrderStatusConsumer } from "./events/order-status.consumer.ts";
import { PRODUCER } from "./events/ticket-events.ts";
import { resolvers } from "./resolvers/index.ts";
import { createTicketsServices, type TicketsServices } from "./services.ts";

const typeDefs = parse(readFileSync(new URL("./schema.graphql", import.meta.url), "utf8"));

export interface TicketsApp {
  service: RunningService;
  services: TicketsServices;
  /** The `session.revoked` consumer and the `isRevoked` hook. */
  denylist: SessionDenylist;
  /** The order-event consumer (`<namespace>.order-status`). */
  orders: EventConsumer<BoxofficeEventDefinition, TicketsTx>;
  /** Stops HTTP, the consumers, the relay and Prisma, in that order. */
  stop: () => Promise<void>;
}

export interface TicketsOptions {
  /** Called with every SQL statement (tests count round trips). */
  onQuery?: (sql: string) => void;
  /** Event registry (default: the standard topics, under `KAFKA_NAMESPACE` when set); tests pass one with unique topic names. */
  registry?: EventRegistry<BoxofficeEventDefinition>;
  /** Consumer-group namespace (default `tickets`, or `<KAFKA_NAMESPACE>.tickets`); tests pass a unique one. */
  consumerGroupNamespace?: string;
}

/**
 * Starts the tickets subgraph: HTTP (GraphQL at /graphql, /healthz, /readyz), the outbox relay, the
 * session-denylist consumer and the order-status consumer.
 *
 * @throws when the database or Kafka is unreachable at start, or the port is taken.
 */
export async function startTickets(
  env: TicketsEnv,
  logger: Logger,
  options: TicketsOptions = {},
): Promise<TicketsApp> {
  const names = eventNames("tickets", env.KAFKA_NAMESPACE);
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

  const sessionAuth = createSubgraphAuth<TicketsTx>({
    env,
    service: namespace,
    kafka,
    db: prisma,
    transaction: (fn) => prisma.$transaction(fn),
    registry,
    logger: log,
  });
  const { denylist, verifier } = sessionAuth;
  const services = createTicketsServices(prisma, verifier, publisher, logger);
  const orders = createOrderStatusConsumer({
    service: namespace,
    kafka,
    prisma,
    registry,
    publisher,
    logger: log,
  });
  const relay = createRelay({
    connectionString: env.DATABASE_URL,
    schema: TICKETS_SCHEMA,
    kafka,
    logger: log,
  });

  await relay.start();
  await sessionAuth.signingKeys.start();
  await denylist.start();
  await orders.start();

  // Read-your-writes (`waitFor` arguments): the consumer groups whose read models the queries read.
  const consistency = new ReadYourWrites(prisma, [orders], { timeoutMs: env.CONSISTENCY_WAIT_MS });
  const service = await startService<TicketsContext>({
    name: "tickets",
    port: env.TICKETS_PORT,
    gatewaySecret: env.GATEWAY_SHARED_SECRET,
    host: env.TICKETS_HOST,
    logger,
    schema: buildSubgraphSchema({ typeDefs, resolvers }),
    context: async ({ req, scope }) => ({
      ...scope,
      ...(await sessionAuth.context({ req })),
      services,
      consistency,
      loaders: { ticket: services.ticketLoader() },
    }),
    readiness: [
      { name: "database", check: async () => (await prisma.$queryRaw`SELECT 1`, true) },
      { name: "outbox-relay", check: () => relay.status().ready },
      { name: "session-denylist", check: () => denylist.status().ready },
      { name: "signing-keys", check: () => sessionAuth.signingKeys.status().ready },
      { name: "order-status-consumer", check: () => orders.status().ready },
    ],
    shutdown: [
      { name: "session-denylist consumer", run: async () => void (await denylist.stop()) },
      { name: "signing-keys consumer", run: async () => void (await sessionAuth.signingKeys.stop()) },
      { name: "order-status consumer", run: async () => void (await orders.stop()) },
      { name: "outbox relay", run: async () => void (await relay.stop()) },
      { name: "prisma", run: () => prisma.$disconnect() },
    ],
  });
  return { service, services, denylist, orders, stop: service.stop };
}
