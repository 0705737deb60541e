/**
 * Test harness: a tickets subgraph on its own migrated database, with its own ticket/order topics and
 * consumer groups (tests run in parallel and in any order), authenticating against the real accounts
 * process from accounts.global-setup.ts. Session events stay on accounts' real topic, because the
 * real accounts process publishes there.
 */
import path from "node:path";
import type { EventEnvelope } from "@boxoffice/events";
import * as kit from "@boxoffice/service-kit/testing-accounts";
import { startTickets, type TicketsApp } from "../../src/app.ts";
import { ticketsEnv } from "../../src/env.ts";

// The shared subgraph test kit (users on the real accounts process, gql, waitUntil…), then this subgraph's own.
export * from "@boxoffice/service-kit/testing-accounts";
export { orderEvent, type OrderSpec } from "@boxoffice/events/testing";

const TICKETS_DIR = path.resolve(import.meta.dirname, "../..");

export interface Harness extends kit.SubgraphHarness<TicketsApp> {
  /** SQL statements the tickets Prisma client ran (clear it before measuring). */
  queries: string[];
  /**
   * Produces `events` to the orders topic in this order (keyed by order id, as the relay does), then
   * waits until the tickets order consumer has settled every one of them (applied, duplicate or
   * dead-lettered), so a test can assert the final state, including "nothing changed".
   */
  deliverOrderEvents(events: EventEnvelope[]): Promise<void>;
}

/** Starts a tickets subgraph for one test file. */
export async function startHarness(): Promise<Harness> {
  const bed = await kit.subgraphTestBed("tickets", TICKETS_DIR);
  const queries: string[] = [];
  const app = bed.track(
    await startTickets(ticketsEnv(bed.env), kit.testLogger("tickets"), {
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
    deliverOrderEvents: (events) => bed.deliver(app.orders, events, "order events"),
    stop: bed.stop,
  };
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
  user: kit.TestUser,
  input: Partial<{ title: string; priceMinor: number; currency: string }> = {},
): Promise<TicketView> {
  const { body } = await kit.gql(
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
