/**
 * Two buyers ordering one ticket at the same instant: the partial unique index
 * `orders_ticket_pending_key` lets exactly one PENDING order exist per ticket, so one request wins and
 * the other gets CONFLICT TICKET_RESERVED — every round, whatever the interleaving.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  gql,
  listTickets,
  ORDER_FIELDS,
  signUp,
  startHarness,
  waitUntil,
  type Harness,
  type TestUser,
} from "./support/harness.ts";

let harness: Harness;
let seller: TestUser;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  harness = await startHarness();
  [seller, alice, bob] = await Promise.all([signUp(), signUp(), signUp()]);
});
afterAll(async () => {
  await harness?.stop();
});

const CREATE = `mutation ($ticketId: ID!) { createOrder(ticketId: $ticketId) { ${ORDER_FIELDS} } }`;
const ROUNDS = 50;

describe("concurrent createOrder", () => {
  it(`${ROUNDS} rounds of two simultaneous orders for one ticket: exactly one order and one order.created per round`, async () => {
    const tickets = await listTickets(harness, seller.id, ROUNDS);
    for (const ticketId of tickets) {
      const results = await Promise.all([alice, bob].map((user) => gql(harness, CREATE, { ticketId }, user)));
      const won = results.filter((r) => r.body.data?.createOrder);
      const lost = results.filter((r) => r.body.errors);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.body.errors?.[0]?.extensions).toMatchObject({
        code: "CONFLICT",
        reason: "TICKET_RESERVED",
      });
    }
    const rows = await harness.sql<{ ticket_id: string; orders: string; events: string }>(
      `SELECT o.ticket_id::text, count(*) AS orders,
              (SELECT count(*) FROM orders.event_outbox e
                WHERE e.event_type = 'order.created' AND e.payload->'data'->>'ticketId' = o.ticket_id::text) AS events
       FROM orders.orders o WHERE o.ticket_id = ANY($1::uuid[]) GROUP BY o.ticket_id`,
      [tickets],
    );
    expect(rows).toHaveLength(ROUNDS);
    for (const row of rows) expect(row).toMatchObject({ orders: "1", events: "1" });
  });
});

describe("the database constraint itself", () => {
  it("refuses a second PENDING order for one ticket even when written without the service's checks (SQLSTATE 23505)", async () => {
    const [ticketId] = await listTickets(harness, seller.id);
    const insert = (id: string, status: string) =>
      harness.sql(
        `INSERT INTO orders.orders (id, ticket_id, buyer_id, status, amount_minor, currency, expires_at)
         VALUES ($1, $2, $3, $4::orders.order_status, 100, 'EUR', now() + interval '1 hour')`,
        [id, ticketId, alice.id, status],
      );
    await insert(randomUUID(), "PENDING");
    await expect(insert(randomUUID(), "PENDING")).rejects.toMatchObject({
      code: "23505",
      constraint: "orders_ticket_pending_key",
    });
    // Only PENDING orders are exclusive: any number of CANCELLED ones may exist for the ticket.
    await insert(randomUUID(), "CANCELLED");
    await insert(randomUUID(), "CANCELLED");
  });

  it("the loser of a race that passed the service's checks gets CONFLICT TICKET_RESERVED from the index, not an internal error", async () => {
    const [ticketId] = await listTickets(harness, seller.id);
    // A competing reservation, inserted but not committed: invisible to createOrder's check, yet
    // holding the index entry, so createOrder's INSERT waits for it and fails when it commits.
    const competitor = new pg.Client({ connectionString: harness.db.url });
    await competitor.connect();
    try {
      await competitor.query("BEGIN");
      await competitor.query(
        `INSERT INTO orders.orders (id, ticket_id, buyer_id, amount_minor, currency, expires_at)
         VALUES ($1, $2, $3, 100, 'EUR', now() + interval '1 hour')`,
        [randomUUID(), ticketId, alice.id],
      );
      const request = gql(harness, CREATE, { ticketId }, bob);
      await waitUntil(
        async () =>
          (
            await harness.sql(
              `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE NOT l.granted AND a.datname = current_database()`,
            )
          ).length > 0,
        20_000,
        "createOrder waiting on the competitor's index entry",
      );
      await competitor.query("COMMIT");
      const { body } = await request;
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", reason: "TICKET_RESERVED" });
    } finally {
      await competitor.end();
    }
    const [row] = await harness.sql("SELECT count(*)::int AS n FROM orders.orders WHERE ticket_id = $1", [
      ticketId,
    ]);
    expect(row).toEqual({ n: 1 });
  });
});
