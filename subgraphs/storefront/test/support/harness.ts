/**
 * Test harness: a storefront subgraph on its own migrated database, with its own account, ticket,
 * order and payment topics and consumer groups (test files run in parallel and in any order),
 * authenticating against the real accounts process from accounts.global-setup.ts. Events are produced
 * to Kafka as the owning subgraphs would (envelopes built and validated with the shared registry), so
 * the read-model consumer runs exactly as in production.
 */
import path from "node:path";
import {
  createKafka,
  createPublisher,
  type BoxofficeEventDefinition,
  type EventEnvelope,
  type EventRegistry,
} from "@boxoffice/events";
import { deliverEvents } from "@boxoffice/events/testing";
import type { GraphQLBody, TestDatabase } from "@boxoffice/service-kit/testing";
import { startStorefront, type StorefrontApp } from "../../src/app.ts";
import { storefrontEnv, type StorefrontEnv } from "../../src/env.ts";
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

const STOREFRONT_DIR = path.resolve(import.meta.dirname, "../..");

export interface Harness {
  app: StorefrontApp;
  url: string;
  db: TestDatabase;
  env: StorefrontEnv;
  registry: EventRegistry<BoxofficeEventDefinition>;
  /** Consumer-group namespace of this harness (the live group is `<namespace>.read-model`). */
  namespace: string;
  sql<T extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  /** Stops the app (HTTP and consumers); `stop()` still cleans up. */
  stopApp(): Promise<void>;
  /** Starts the app again on the same database and topics (e.g. under a rebuild's group id). */
  restart(readModelGroupId?: string): Promise<StorefrontApp>;
  stop(): Promise<void>;
}

/** Starts a storefront subgraph for one test file. */
export async function startHarness(): Promise<Harness> {
  // Users on a private topic (the rebuild test replays it whole); sessions on the real one, where
  // the real accounts process publishes `session.revoked`.
  const bed = await subgraphTestBed("storefront", STOREFRONT_DIR, ["session", "signing-key"]);
  const env = storefrontEnv(bed.env);
  const start = async (readModelGroupId?: string) =>
    bed.track(
      await startStorefront(env, testLogger("storefront"), {
        registry: bed.registry,
        consumerGroupNamespace: bed.namespace,
        ...(readModelGroupId ? { readModelGroupId } : {}),
      }),
    );
  const harness: Harness = {
    app: await start(),
    url: "",
    db: bed.db,
    env,
    registry: bed.registry,
    namespace: bed.namespace,
    sql: bed.sql,
    async stopApp() {
      await harness.app.stop();
    },
    async restart(readModelGroupId?: string) {
      harness.app = await start(readModelGroupId);
      harness.url = harness.app.service.url;
      return harness.app;
    },
    stop: bed.stop,
  };
  harness.url = harness.app.service.url;
  return harness;
}

/** A GraphQL request to the storefront subgraph, optionally as `user`. */
export function gql(
  harness: Harness,
  query: string,
  variables: Record<string, unknown> = {},
  user?: TestUser,
): Promise<{ res: Response; body: GraphQLBody }> {
  return gqlAs(harness.url, query, variables, user);
}

const publisherFor = (harness: Harness, producer: string) =>
  createPublisher({ registry: harness.registry, producer });

/** A ticket's state as the tickets subgraph publishes it. */
export interface TicketSpec {
  ticketId: string;
  sellerId: string;
  version: number;
  status?: "AVAILABLE" | "RESERVED" | "SOLD";
  title?: string;
  priceMinor?: number;
  currency?: string;
  occurredAt?: Date;
}

/** `ticket.created` (version 1) or `ticket.updated` (later versions), as tickets would publish it. */
export function ticketEvent(harness: Harness, ticket: TicketSpec): EventEnvelope {
  const publisher = publisherFor(harness, "tickets-test");
  const common = {
    schemaVersion: 1,
    aggregateId: ticket.ticketId,
    aggregateVersion: ticket.version,
    data: {
      ticketId: ticket.ticketId,
      title: ticket.title ?? "Radiohead, 12 June, Standing",
      priceMinor: ticket.priceMinor ?? 8_500,
      currency: ticket.currency ?? "EUR",
      sellerId: ticket.sellerId,
      status: ticket.status ?? "AVAILABLE",
      version: ticket.version,
    },
    ...(ticket.occurredAt ? { occurredAt: ticket.occurredAt } : {}),
  } as const;
  return ticket.version === 1
    ? publisher.createEnvelope({ type: "ticket.created", ...common })
    : publisher.createEnvelope({ type: "ticket.updated", ...common });
}

/** An order's state as the orders subgraph publishes it; the event type follows `status`. */
export interface OrderSpec {
  orderId: string;
  ticketId: string;
  buyerId: string;
  version: number;
  status: "PENDING" | "CANCELLED" | "COMPLETED";
  amountMinor?: number;
  currency?: string;
  occurredAt?: Date;
}

/** `order.created` / `order.cancelled` / `order.completed` for `order`, as orders would publish it. */
export function orderEvent(harness: Harness, order: OrderSpec): EventEnvelope {
  const publisher = publisherFor(harness, "orders-test");
  const data = {
    orderId: order.orderId,
    ticketId: order.ticketId,
    buyerId: order.buyerId,
    amountMinor: order.amountMinor ?? 8_500,
    currency: order.currency ?? "EUR",
    expiresAt: new Date(Date.UTC(2030, 0, 1)).toISOString(),
    version: order.version,
  };
  const common = {
    schemaVersion: 1,
    aggregateId: order.orderId,
    aggregateVersion: order.version,
    ...(order.occurredAt ? { occurredAt: order.occurredAt } : {}),
  } as const;
  switch (order.status) {
    case "PENDING":
      return publisher.createEnvelope({
        type: "order.created",
        ...common,
        data: { ...data, status: "PENDING" },
      });
    case "CANCELLED":
      return publisher.createEnvelope({
        type: "order.cancelled",
        ...common,
        data: { ...data, status: "CANCELLED" },
      });
    case "COMPLETED":
      return publisher.createEnvelope({
        type: "order.completed",
        ...common,
        data: { ...data, status: "COMPLETED" },
      });
  }
}

/** A payment event as the payments subgraph would publish it. */
export function paymentEvent(
  harness: Harness,
  type: "payment.succeeded" | "payment.failed",
  payment: { paymentId: string; orderId: string; version: number; amountMinor?: number; currency?: string },
): EventEnvelope {
  const publisher = publisherFor(harness, "payments-test");
  const common = {
    schemaVersion: 1,
    aggregateId: payment.paymentId,
    aggregateVersion: payment.version,
    data: {
      paymentId: payment.paymentId,
      orderId: payment.orderId,
      amountMinor: payment.amountMinor ?? 8_500,
      currency: payment.currency ?? "EUR",
      ...(type === "payment.failed" ? { reason: "card_declined" } : {}),
    },
  } as const;
  return type === "payment.succeeded"
    ? publisher.createEnvelope({ type, ...common })
    : publisher.createEnvelope({ type, ...common });
}

/** `user.registered` for `userId`, as accounts would publish it. */
export function userEvent(harness: Harness, userId: string, occurredAt?: Date): EventEnvelope {
  return publisherFor(harness, "accounts-test").createEnvelope({
    type: "user.registered",
    schemaVersion: 1,
    aggregateId: userId,
    aggregateVersion: 1,
    data: { userId, email: `${userId}@example.test` },
    ...(occurredAt ? { occurredAt } : {}),
  });
}

/**
 * Produces `events` in this order, each to its aggregate's topic keyed by aggregate id (as the relay
 * does), one send per event (a duplicate is a second message), then waits until the harness app's
 * read-model consumer has settled every one (applied, duplicate or dead-lettered).
 */
export async function deliver(harness: Harness, events: EventEnvelope[]): Promise<void> {
  const kafka = createKafka({ clientId: "storefront-test", brokers: kafkaBrokers() });
  await deliverEvents(kafka, harness.registry, harness.app.readModel, events, { what: "read-model events" });
}
