/**
 * Test harness: a tickets subgraph on its own migrated database, with its own ticket/order topics and
 * consumer groups (tests run in parallel and in any order), authenticating against the real accounts
 * process from accounts.global-setup.ts. Session events stay on accounts' real topic, because the
 * real accounts process publishes there.
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
import { deliverEvents } from "@boxoffice/events/testing";
import type { GraphQLBody, TestDatabase } from "@boxoffice/service-kit/testing";
import { startTickets, type TicketsApp } from "../../src/app.ts";
import { ticketsEnv } from "../../src/env.ts";
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

const TICKETS_DIR = path.resolve(import.meta.dirname, "../..");

export interface Harness {
  app: TicketsApp;
  url: string;
  db: TestDatabase;
  registry: EventRegistry<BoxofficeEventDefinition>;
  /** SQL statements the tickets Prisma client ran (clear it before measuring). */
  queries: string[];
  sql<T extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/** Starts a tickets subgraph for one test file. */
export async function startHarness(): Promise<Harness> {
  const bed = await subgraphTestBed("tickets", TICKETS_DIR);
  const queries: string[] = [];
  const app = bed.track(
    await startTickets(ticketsEnv(bed.env), testLogger("tickets"), {
      onQuery: (sql) => queries.push(sql),
      registry: bed.registry,
      consumerGroupNamespace: bed.namespace,
    }),
  );
  return {
    app,
    url: app.service.url,
    db: bed.db,
    registry: bed.registry,
    queries,
    sql: bed.sql,
    stop: bed.stop,
  };
}

/** A GraphQL request to the tickets subgraph, optionally as `user`. */
export function gql(
  harness: Harness,
  query: string,
  variables: Record<string, unknown> = {},
  user?: TestUser,
): Promise<{ res: Response; body: GraphQLBody }> {
  return gqlAs(harness.url, query, variables, user);
}

export const TICKET_FIELDS = "id title priceMinor currency status version seller { id }";

export interface TicketView {
  id: string;
  title: string;
  priceMinor: number;
  currency: string;
  status: string;
  version: number;
  seller: { id: string };
}

/** Creates a ticket through GraphQL as `user`. */
export async function createTicket(
  harness: Harness,
  user: TestUser,
  input: Partial<{ title: string; priceMinor: number; currency: string }> = {},
): Promise<TicketView> {
  const { body } = await gql(
    harness,
    `mutation ($input: CreateTicketInput!) { createTicket(input: $input) { ${TICKET_FIELDS} } }`,
    { input: { title: "Radiohead, 12 June, Standing", priceMinor: 8_500, currency: "EUR", ...input } },
    user,
  );
  const ticket = body.data?.createTicket as TicketView | undefined;
  if (!ticket) throw new Error(`createTicket failed: ${JSON.stringify(body.errors)}`);
  return ticket;
}

/** Row counts of everything a refused mutation must not write. */
export async function writeCounts(harness: Harness): Promise<Record<string, unknown>> {
  const [row] = await harness.sql(
    `SELECT (SELECT count(*) FROM tickets.tickets) AS tickets,
            (SELECT coalesce(sum(version), 0) FROM tickets.tickets) AS versions,
            (SELECT count(*) FROM tickets.event_outbox) AS events`,
  );
  return row ?? {};
}

/** An order event envelope as the orders subgraph would publish it (validated by the registry). */
export function orderEvent(
  harness: Harness,
  type: "order.created" | "order.cancelled" | "order.completed",
  order: { orderId: string; ticketId: string; version: number },
): EventEnvelope {
  const publisher = createPublisher({ registry: harness.registry, producer: "orders-test" });
  const status = {
    "order.created": "PENDING",
    "order.cancelled": "CANCELLED",
    "order.completed": "COMPLETED",
  } as const;
  const data = {
    orderId: order.orderId,
    ticketId: order.ticketId,
    buyerId: randomUUID(),
    amountMinor: 8_500,
    currency: "EUR",
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
    version: order.version,
  };
  const common = { schemaVersion: 1, aggregateId: order.orderId, aggregateVersion: order.version } as const;
  if (type === "order.created") {
    return publisher.createEnvelope({ type, ...common, data: { ...data, status: status[type] } });
  }
  if (type === "order.cancelled") {
    return publisher.createEnvelope({ type, ...common, data: { ...data, status: status[type] } });
  }
  return publisher.createEnvelope({ type, ...common, data: { ...data, status: status[type] } });
}

/**
 * Produces `events` to the orders topic in this order (keyed by order id, as the relay does), then
 * waits until the tickets order consumer has settled every one of them (applied, duplicate or
 * dead-lettered), so a test can assert the final state, including "nothing changed".
 */
export async function deliverOrderEvents(harness: Harness, events: EventEnvelope[]): Promise<void> {
  const kafka = createKafka({ clientId: "orders-test", brokers: kafkaBrokers() });
  await deliverEvents(kafka, harness.registry, harness.app.orders, events, { what: "order events" });
}
