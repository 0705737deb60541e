/**
 * Test harness: an orders subgraph on its own migrated database, with its own ticket/order/payment
 * topics and consumer groups (tests run in parallel and in any order), authenticating against the
 * real accounts process from accounts.global-setup.ts. Ticket and payment events are produced to
 * Kafka as the tickets and payments subgraphs would (envelopes built and validated with the shared
 * registry), so the orders consumers run exactly as in production.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import {
  createKafka,
  createPublisher,
  type BoxofficeEventDefinition,
  type EventEnvelope,
  type EventRegistry,
} from "@boxoffice/events";
import { deliverEvents, produceEvents } from "@boxoffice/events/testing";
import type { GraphQLBody, TestDatabase } from "@boxoffice/service-kit/testing";
import { startOrders, type OrdersApp } from "../../src/app.ts";
import { ordersEnv, type OrdersEnv } from "../../src/env.ts";
import {
  accountsUrl,
  bearer,
  gqlAs,
  kafkaBrokers,
  signOut,
  signUp,
  subgraphTestBed,
  testLogger,
  waitUntil,
  type TestUser,
} from "@boxoffice/service-kit/testing-accounts";

export { accountsUrl, bearer, kafkaBrokers, signOut, signUp, waitUntil, type TestUser };

const ORDERS_DIR = path.resolve(import.meta.dirname, "../..");

export interface Harness {
  app: OrdersApp;
  url: string;
  db: TestDatabase;
  env: OrdersEnv;
  registry: EventRegistry<BoxofficeEventDefinition>;
  sql<T extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  /** Starts another orders process on the same database and topics (a replica, or a restart). */
  startReplica(options?: { expirationWorker?: boolean }): Promise<OrdersApp>;
  stop(): Promise<void>;
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
  const bed = await subgraphTestBed("orders", ORDERS_DIR);
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
      await startOrders(env, testLogger("orders"), {
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
    stop: bed.stop,
  };
}

/** A GraphQL request to the orders subgraph, optionally as `user`. */
export function gql(
  harness: Harness,
  query: string,
  variables: Record<string, unknown> = {},
  user?: TestUser,
): Promise<{ res: Response; body: GraphQLBody }> {
  return gqlAs(harness.url, query, variables, user);
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

/** A ticket's replicated state as the tickets subgraph publishes it. */
export interface TicketSpec {
  ticketId: string;
  sellerId: string;
  version: number;
  status?: "AVAILABLE" | "RESERVED" | "SOLD";
  title?: string;
  priceMinor?: number;
  currency?: string;
}

/** `ticket.created` (version 1) or `ticket.updated` (later versions) for `ticket`, as tickets would publish it. */
export function ticketEvent(harness: Harness, ticket: TicketSpec): EventEnvelope {
  const publisher = createPublisher({ registry: harness.registry, producer: "tickets-test" });
  const data = {
    ticketId: ticket.ticketId,
    title: ticket.title ?? "Radiohead, 12 June, Standing",
    priceMinor: ticket.priceMinor ?? 8_500,
    currency: ticket.currency ?? "EUR",
    sellerId: ticket.sellerId,
    status: ticket.status ?? "AVAILABLE",
    version: ticket.version,
  };
  const common = {
    schemaVersion: 1,
    aggregateId: ticket.ticketId,
    aggregateVersion: ticket.version,
    data,
  } as const;
  return ticket.version === 1
    ? publisher.createEnvelope({ type: "ticket.created", ...common })
    : publisher.createEnvelope({ type: "ticket.updated", ...common });
}

/** A payment event as the payments subgraph would publish it; `occurredAt` defaults to now. */
export function paymentEvent(
  harness: Harness,
  type: "payment.succeeded" | "payment.failed" | "payment.refunded",
  payment: {
    paymentId?: string;
    orderId: string;
    amountMinor?: number;
    currency?: string;
    occurredAt?: Date;
  },
): EventEnvelope {
  const publisher = createPublisher({ registry: harness.registry, producer: "payments-test" });
  const paymentId = payment.paymentId ?? randomUUID();
  const data = {
    paymentId,
    orderId: payment.orderId,
    amountMinor: payment.amountMinor ?? 8_500,
    currency: payment.currency ?? "EUR",
    ...(type === "payment.failed" ? { reason: "card_declined" } : {}),
  };
  const common = {
    schemaVersion: 1,
    aggregateId: paymentId,
    // Payment events carry no state version; each payment publishes one event per outcome.
    aggregateVersion: type === "payment.failed" ? 1 : type === "payment.succeeded" ? 2 : 3,
    data,
    ...(payment.occurredAt ? { occurredAt: payment.occurredAt } : {}),
  } as const;
  if (type === "payment.succeeded") return publisher.createEnvelope({ type, ...common });
  if (type === "payment.refunded") return publisher.createEnvelope({ type, ...common });
  return publisher.createEnvelope({ type, ...common });
}

/**
 * Produces `events` to their topics, then waits until the harness app's consumer of those events
 * (`tickets` or `payments`) has settled every one (applied, duplicate or dead-lettered), so a test can
 * assert the final state, even "nothing changed". Only for files whose consumers run in one app.
 */
export async function deliver(
  harness: Harness,
  consumer: "tickets" | "payments",
  events: EventEnvelope[],
): Promise<void> {
  const kafka = createKafka({ clientId: "orders-test", brokers: kafkaBrokers() });
  await deliverEvents(kafka, harness.registry, harness.app[consumer], events, { what: `${consumer} events` });
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
    createKafka({ clientId: "orders-test", brokers: kafkaBrokers() }),
    harness.registry,
    ids.map((ticketId) => ticketEvent(harness, { ...ticket, ticketId, sellerId, version: 1 })),
  );
  // Waits on the replica rather than on one app's consumer: with replicas in the group, any of them
  // may own the partition.
  await waitUntil(
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
export async function createOrder(harness: Harness, buyer: TestUser, ticketId: string): Promise<OrderView> {
  const { body } = await gql(
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
