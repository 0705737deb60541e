/**
 * Test harness: an orders subgraph on its own migrated database, with its own ticket/order/payment
 * topics and consumer groups (tests run in parallel and in any order), authenticating against the
 * real accounts process from accounts.global-setup.ts. Ticket and payment events are produced to
 * Kafka as the tickets and payments subgraphs would (envelopes built and validated with the shared
 * registry), so the orders consumers run exactly as in production.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { createKafka, type EventEnvelope } from "@boxoffice/events";
import { produceEvents, ticketEvent, type TicketSpec } from "@boxoffice/events/testing";
import * as kit from "@boxoffice/service-kit/testing-accounts";
import { startOrders, type OrdersApp } from "../../src/app.ts";
import { ordersEnv, type OrdersEnv } from "../../src/env.ts";

// The shared subgraph test kit (users on the real accounts process, gql, waitUntil…), then this subgraph's own.
export * from "@boxoffice/service-kit/testing-accounts";
export { paymentEvent, ticketEvent, type TicketSpec } from "@boxoffice/events/testing";

const ORDERS_DIR = path.resolve(import.meta.dirname, "../..");

export interface Harness extends kit.SubgraphHarness<OrdersApp> {
  env: OrdersEnv;
  /** Starts another orders process on the same database and topics (a replica, or a restart). */
  startReplica(options?: { expirationWorker?: boolean }): Promise<OrdersApp>;
  /**
   * Produces `events` to their topics, then waits until the first app's consumer of those events
   * (`tickets` or `payments`) has settled every one (applied, duplicate or dead-lettered), so a test
   * can assert the final state, even "nothing changed". Only for files whose consumers run in one app.
   */
  deliver(consumer: "tickets" | "payments", events: EventEnvelope[]): Promise<void>;
}

export interface HarnessOptions {
  /** ORDER_EXPIRATION_SECONDS (default 900). */
  expirationSeconds?: number;
  /** ORDER_EXPIRATION_GRACE_SECONDS (default 0 here; 30 in production). */
  expirationGraceSeconds?: number;
  /** ORDER_EXPIRATION_POLL_MS (default 1000). */
  expirationPollMs?: number;
  /** Run the app's own expiration worker (default true). */
  expirationWorker?: boolean;
  /** ORDERS_MAX_PENDING_PER_BUYER (default 1000 here; 3 in production). */
  maxPendingPerBuyer?: number;
  /** ORDERS_REORDER_COOLDOWN_SECONDS (default 0 here; 300 in production). */
  reorderCooldownSeconds?: number;
}

/** Starts an orders subgraph for one test file. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const bed = await kit.subgraphTestBed("orders", ORDERS_DIR);
  const env = ordersEnv({
    ...bed.env,
    ...(options.expirationSeconds ? { ORDER_EXPIRATION_SECONDS: String(options.expirationSeconds) } : {}),
    ...(options.expirationPollMs ? { ORDER_EXPIRATION_POLL_MS: String(options.expirationPollMs) } : {}),
    // Tests of other rules place many orders per buyer; fair-inventory.test.ts sets these itself.
    ORDERS_MAX_PENDING_PER_BUYER: String(options.maxPendingPerBuyer ?? 1000),
    ORDERS_REORDER_COOLDOWN_SECONDS: String(options.reorderCooldownSeconds ?? 0),
    // Tests of expiry mean expiresAt itself; the grace period has its own test.
    ORDER_EXPIRATION_GRACE_SECONDS: String(options.expirationGraceSeconds ?? 0),
  });
  const startReplica = async (replica: { expirationWorker?: boolean } = {}) =>
    bed.track(
      await startOrders(env, kit.testLogger("orders"), {
        registry: bed.registry,
        consumerGroupNamespace: bed.namespace,
        expirationWorker: replica.expirationWorker ?? true,
      }),
    );
  const app = await startReplica({ expirationWorker: options.expirationWorker ?? true });
  return {
    app,
    url: app.service.url,
    db: bed.db,
    env,
    registry: bed.registry,
    startReplica,
    sql: bed.sql,
    deliver: (consumer, events) => bed.deliver(app[consumer], events, `${consumer} events`),
    stop: bed.stop,
  };
}

export const ORDER_FIELDS =
  "id status cancellationReason amountMinor currency expiresAt version buyer { id } ticket { id }";

export interface OrderView {
  id: string;
  status: string;
  cancellationReason: string | null;
  amountMinor: number;
  currency: string;
  expiresAt: string;
  version: number;
  buyer: { id: string };
  ticket: { id: string };
}

/** Lists tickets for `sellerId` through Kafka (`ticket.created`) and waits until they are replicated; returns their ids. */
export async function listTickets(
  harness: Harness,
  sellerId: string,
  count = 1,
  ticket: Partial<TicketSpec> = {},
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await produceEvents(
    createKafka({ clientId: "orders-test", brokers: kit.kafkaBrokers() }),
    harness.registry,
    ids.map((ticketId) => ticketEvent({ ...ticket, ticketId, sellerId, version: 1 })),
  );
  // Waits on the replica rather than on one app's consumer: with replicas in the group, any of them
  // may own the partition.
  await kit.waitUntil(
    async () => {
      const [row] = await harness.sql<{ n: number }>(
        "SELECT count(*)::int AS n FROM orders.ticket_replica WHERE id = ANY($1::uuid[])",
        [ids],
      );
      return row?.n === ids.length;
    },
    30_000,
    "tickets replicated",
  );
  return ids;
}

/** Creates an order through GraphQL as `buyer`. */
export async function createOrder(
  harness: Harness,
  buyer: kit.TestUser,
  ticketId: string,
): Promise<OrderView> {
  const { body } = await kit.gql(
    harness,
    `mutation ($ticketId: ID!) { createOrder(ticketId: $ticketId) { ${ORDER_FIELDS} } }`,
    { ticketId },
    buyer,
  );
  const order = body.data?.createOrder as OrderView | undefined;
  if (!order) throw new Error(`createOrder failed: ${JSON.stringify(body.errors)}`);
  return order;
}

/** The order events in the outbox for `orderId`, in version order. */
export async function outboxOf(
  harness: Harness,
  orderId: string,
): Promise<
  Array<{ event_type: string; aggregate_version: string; payload: { data: Record<string, unknown> } }>
> {
  return harness.sql(
    "SELECT event_type, aggregate_version, payload FROM orders.event_outbox WHERE aggregate_id = $1 ORDER BY aggregate_version",
    [orderId],
  );
}

/** Row counts of everything a refused mutation must not write. */
export async function writeCounts(harness: Harness): Promise<Record<string, unknown>> {
  const [row] = await harness.sql(
    `SELECT (SELECT count(*) FROM orders.orders) AS orders,
            (SELECT coalesce(sum(version), 0) FROM orders.orders) AS versions,
            (SELECT count(*) FROM orders.event_outbox) AS events`,
  );
  return row ?? {};
}
