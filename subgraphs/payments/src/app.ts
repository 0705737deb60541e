import { ReadYourWrites, type BoxofficeEventDefinition, type EventConsumer } from "@boxoffice/events";
import type { Logger } from "@boxoffice/service-kit";
import {
  startSubgraph,
  type SubgraphOverrides,
  type VerifyingSubgraphApp,
} from "@boxoffice/service-kit/subgraph";
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

export interface PaymentsApp extends VerifyingSubgraphApp {
  services: PaymentsServices;
  /** The order-event consumer (`<namespace>.order-replica`). */
  orders: EventConsumer<BoxofficeEventDefinition, PaymentsTx>;
  /** Returns captured payments of cancelled orders (refund.worker.ts). */
  refunds: RefundWorker;
  /** Settles payments left PENDING by lost responses, crashes or abandoned retries. */
  reconciliation: ReconciliationWorker;
}

/** Test overrides (`SubgraphOverrides`: onQuery, registry, consumer-group namespace) and its own. */
export interface PaymentsOptions extends SubgraphOverrides {
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
 * Starts the payments subgraph (service-kit's `startSubgraph`: HTTP with /graphql, /healthz, /readyz,
 * the outbox relay, session verification) with its order-replica consumer and the refund and
 * reconciliation workers.
 *
 * @throws when the database or Kafka is unreachable at start, or the port is taken.
 */
export async function startPayments(
  env: PaymentsEnv,
  logger: Logger,
  options: PaymentsOptions = {},
): Promise<PaymentsApp> {
  const prisma = createPrisma(env.DATABASE_URL, options.onQuery);
  // PAYMENTS_PROVIDER has one value today: "sandbox".
  const provider = options.provider ?? createSandboxProvider();
  const lease = options.attemptLeaseMs !== undefined ? { attemptLeaseMs: options.attemptLeaseMs } : {};
  const { parts, ...app } = await startSubgraph({
    name: "payments",
    env,
    logger,
    schema: new URL("./schema.graphql", import.meta.url),
    resolvers,
    prisma,
    overrides: options,
    outbox: { producer: PRODUCER, schema: PAYMENTS_SCHEMA },
    verifySessions: true,
    setup: ({ auth, publisher, consumerOptions, log }) => {
      const services = createPaymentsServices({
        prisma,
        verifier: auth.verifier,
        publisher,
        provider,
        logger,
        ...lease,
        expiryMarginMs: env.PAYMENTS_EXPIRY_MARGIN_SECONDS * 1000,
      });
      const refunds = createRefundWorker({
        prisma,
        provider,
        publisher,
        pollIntervalMs: env.PAYMENTS_REFUND_POLL_MS,
        ...lease,
        logger: log,
      });
      const reconciliation = createReconciliationWorker({
        prisma,
        provider,
        publisher,
        pollIntervalMs: env.PAYMENTS_RECONCILE_POLL_MS,
        abandonAfterMs: options.abandonAfterMs ?? env.PAYMENTS_ABANDON_AFTER_SECONDS * 1000,
        ...lease,
        logger: log,
      });
      const orders = createOrderReplicaConsumer({ ...consumerOptions, prisma });
      // Read-your-writes (`waitFor` arguments): the consumer groups whose read models the queries read.
      const consistency = new ReadYourWrites(prisma, [orders], { timeoutMs: env.CONSISTENCY_WAIT_MS });
      return {
        services,
        orders,
        refunds,
        reconciliation,
        consumers: { "order-replica-consumer": orders },
        workers: { "refund worker": refunds, "reconciliation worker": reconciliation },
        context: ({ base }): PaymentsContext => ({
          ...base,
          consistency,
          services,
          loaders: { payment: services.paymentLoader() },
        }),
      };
    },
  });
  const { services, orders, refunds, reconciliation } = parts;
  return { ...app, services, orders, refunds, reconciliation };
}
