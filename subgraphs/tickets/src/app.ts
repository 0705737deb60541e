import { ReadYourWrites, type BoxofficeEventDefinition, type EventConsumer } from "@boxoffice/events";
import type { Logger } from "@boxoffice/service-kit";
import {
  startSubgraph,
  type SubgraphOverrides,
  type VerifyingSubgraphApp,
} from "@boxoffice/service-kit/subgraph";
import type { TicketsContext } from "./context.ts";
import { createPrisma, TICKETS_SCHEMA, type TicketsTx } from "./db.ts";
import type { TicketsEnv } from "./env.ts";
import { createOrderStatusConsumer } from "./events/order-status.consumer.ts";
import { PRODUCER } from "./events/ticket-events.ts";
import { resolvers } from "./resolvers/index.ts";
import { createTicketsServices, type TicketsServices } from "./services.ts";

export interface TicketsApp extends VerifyingSubgraphApp {
  services: TicketsServices;
  /** The order-event consumer (`<namespace>.order-status`). */
  orders: EventConsumer<BoxofficeEventDefinition, TicketsTx>;
}

/** Test overrides (`SubgraphOverrides`: onQuery, registry, consumer-group namespace). */
export type TicketsOptions = SubgraphOverrides;

/**
 * Starts the tickets subgraph (service-kit's `startSubgraph`: HTTP with /graphql, /healthz, /readyz,
 * the outbox relay, session verification) with its order-status consumer.
 *
 * @throws when the database or Kafka is unreachable at start, or the port is taken.
 */
export async function startTickets(
  env: TicketsEnv,
  logger: Logger,
  options: TicketsOptions = {},
): Promise<TicketsApp> {
  const prisma = createPrisma(env.DATABASE_URL, options.onQuery);
  const { parts, ...app } = await startSubgraph({
    name: "tickets",
    env,
    logger,
    schema: new URL("./schema.graphql", import.meta.url),
    resolvers,
    prisma,
    overrides: options,
    outbox: { producer: PRODUCER, schema: TICKETS_SCHEMA },
    verifySessions: true,
    setup: (kit) => {
      const services = createTicketsServices(prisma, kit.auth.verifier, kit.publisher, logger);
      const orders = createOrderStatusConsumer({ ...kit.consumerOptions, prisma, publisher: kit.publisher });
      // Read-your-writes (`waitFor` arguments): the consumer groups whose read models the queries read.
      const consistency = new ReadYourWrites(prisma, [orders], { timeoutMs: env.CONSISTENCY_WAIT_MS });
      return {
        services,
        orders,
        consumers: { "order-status-consumer": orders },
        context: ({ base }): TicketsContext => ({
          ...base,
          consistency,
          services,
          loaders: { ticket: services.ticketLoader() },
        }),
      };
    },
  });
  return { ...app, services: parts.services, orders: parts.orders };
}
