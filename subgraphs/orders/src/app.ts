import { ReadYourWrites, type BoxofficeEventDefinition, type EventConsumer } from "@boxoffice/events";
import type { Logger } from "@boxoffice/service-kit";
import {
  startSubgraph,
  type SubgraphOverrides,
  type VerifyingSubgraphApp,
} from "@boxoffice/service-kit/subgraph";
import type { OrdersContext } from "./context.ts";
import { createPrisma, ORDERS_SCHEMA, type OrdersTx } from "./db.ts";
import type { OrdersEnv } from "./env.ts";
import { PRODUCER } from "./events/order-events.ts";
import { createPaymentsConsumer } from "./events/payments.consumer.ts";
import { createTicketReplicaConsumer } from "./events/ticket-replica.consumer.ts";
import { createOrderExpirationWorker, type OrderExpirationWorker } from "./order-expiration.worker.ts";
import { resolvers } from "./resolvers/index.ts";
import { createOrdersServices, type OrdersServices } from "./services.ts";

export interface OrdersApp extends VerifyingSubgraphApp {
  services: OrdersServices;
  /** The ticket-event consumer (`<namespace>.ticket-replica`). */
  tickets: EventConsumer<BoxofficeEventDefinition, OrdersTx>;
  /** The payment-event consumer (`<namespace>.payments`). */
  payments: EventConsumer<BoxofficeEventDefinition, OrdersTx>;
  /** The durable order timer. */
  expiration: OrderExpirationWorker;
}

/** Test overrides (`SubgraphOverrides`: onQuery, registry, consumer-group namespace) and its own. */
export interface OrdersOptions extends SubgraphOverrides {
  /** Start the expiration worker (default true); tests of the worker itself run their own. */
  expirationWorker?: boolean;
}

/**
 * Starts the orders subgraph (service-kit's `startSubgraph`: HTTP with /graphql, /healthz, /readyz,
 * the outbox relay, session verification) with its ticket-replica and payments consumers and the
 * expiration worker.
 *
 * @throws when the database or Kafka is unreachable at start, or the port is taken.
 */
export async function startOrders(
  env: OrdersEnv,
  logger: Logger,
  options: OrdersOptions = {},
): Promise<OrdersApp> {
  const prisma = createPrisma(env.DATABASE_URL, options.onQuery);
  const { parts, ...app } = await startSubgraph({
    name: "orders",
    env,
    logger,
    schema: new URL("./schema.graphql", import.meta.url),
    resolvers,
    prisma,
    overrides: options,
    outbox: { producer: PRODUCER, schema: ORDERS_SCHEMA },
    verifySessions: true,
    setup: ({ auth, publisher, consumerOptions, log }) => {
      const services = createOrdersServices(
        prisma,
        auth.verifier,
        publisher,
        logger,
        env.ORDER_EXPIRATION_SECONDS,
        {
          maxPendingPerBuyer: env.ORDERS_MAX_PENDING_PER_BUYER,
          reorderCooldownSeconds: env.ORDERS_REORDER_COOLDOWN_SECONDS,
        },
      );
      const tickets = createTicketReplicaConsumer({ ...consumerOptions, prisma });
      const payments = createPaymentsConsumer({ ...consumerOptions, prisma, publisher });
      const expiration = createOrderExpirationWorker({
        prisma,
        publisher,
        pollIntervalMs: env.ORDER_EXPIRATION_POLL_MS,
        graceSeconds: env.ORDER_EXPIRATION_GRACE_SECONDS,
        logger: log,
      });
      // Tests of the worker itself run their own: this one exists (runOnce) but never starts.
      const workers: Record<string, OrderExpirationWorker> =
        (options.expirationWorker ?? true) ? { "order expiration worker": expiration } : {};
      // Read-your-writes (`waitFor` arguments): the consumer groups whose read models the queries read.
      const consistency = new ReadYourWrites(prisma, [tickets, payments], {
        timeoutMs: env.CONSISTENCY_WAIT_MS,
      });
      return {
        services,
        tickets,
        payments,
        expiration,
        consumers: { "ticket-replica-consumer": tickets, "payments-consumer": payments },
        workers,
        context: ({ base }): OrdersContext => ({
          ...base,
          consistency,
          services,
          loaders: { order: services.orderLoader() },
        }),
      };
    },
  });
  const { services, tickets, payments, expiration } = parts;
  return { ...app, services, tickets, payments, expiration };
}
