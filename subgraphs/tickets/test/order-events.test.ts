/**
 * The order-event handlers, driven by real order events produced to Kafka (the orders subgraph does
 * not exist yet; the envelopes are built and validated with the shared registry, as its publisher
 * will). Every handler has an "applies", a duplicate and an out-of-order test (CONVENTIONS.md).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderEvent, startHarness, waitUntil, type Harness, type OrderSpec } from "./support/harness.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

async function newTicket(): Promise<string> {
  const ticket = await harness.app.services.createTicket(randomUUID(), {
    title: "Order test",
    priceMinor: 8_500,
    currency: "EUR",
  });
  return ticket.id;
}

/** The ticket's status and version, and the (version, status) of every ticket.updated it published. */
async function stateOf(ticketId: string) {
  const [ticket] = await harness.sql<{ status: string; version: number }>(
    "SELECT status::text, version FROM tickets.tickets WHERE id = $1",
    [ticketId],
  );
  const updates = await harness.sql<{ version: string; status: string }>(
    `SELECT aggregate_version AS version, payload->'data'->>'status' AS status FROM tickets.event_outbox
     WHERE aggregate_id = $1 AND event_type = 'ticket.updated' ORDER BY aggregate_version`,
    [ticketId],
  );
  return { ...ticket, updates: updates.map((u) => [Number(u.version), u.status]) };
}

const event = (status: OrderSpec["status"], orderId: string, ticketId: string, version: number) =>
  orderEvent({ status, orderId, ticketId, version });

describe("order.created", () => {
  it("reserves the ticket: RESERVED, version + 1, ticket.updated published (and relayed to Kafka)", async () => {
    const ticketId = await newTicket();
    await harness.deliverOrderEvents([event("PENDING", randomUUID(), ticketId, 1)]);
    expect(await stateOf(ticketId)).toEqual({ status: "RESERVED", version: 2, updates: [[2, "RESERVED"]] });
    await waitUntil(
      async () =>
        (
          await harness.sql(
            "SELECT 1 FROM tickets.event_outbox WHERE aggregate_id = $1 AND published_at IS NULL",
            [ticketId],
          )
        ).length === 0,
      20_000,
      "ticket events relayed",
    );
  });

  it("duplicate: the same event twice, and the same order version re-published under a new event id, change the ticket once", async () => {
    const ticketId = await newTicket();
    const orderId = randomUUID();
    const created = event("PENDING", orderId, ticketId, 1);
    await harness.deliverOrderEvents([created, created, event("PENDING", orderId, ticketId, 1)]);
    expect(await stateOf(ticketId)).toEqual({ status: "RESERVED", version: 2, updates: [[2, "RESERVED"]] });
  });

  it("out of order: order.created (v1) arriving after the same order's order.completed (v2) is ignored", async () => {
    const ticketId = await newTicket();
    const orderId = randomUUID();
    await harness.deliverOrderEvents([
      event("COMPLETED", orderId, ticketId, 2),
      event("PENDING", orderId, ticketId, 1),
    ]);
    expect(await stateOf(ticketId)).toEqual({ status: "SOLD", version: 2, updates: [[2, "SOLD"]] });
  });
});

describe("order.cancelled", () => {
  it("releases the ticket: AVAILABLE again, version + 1", async () => {
    const ticketId = await newTicket();
    const orderId = randomUUID();
    await harness.deliverOrderEvents([
      event("PENDING", orderId, ticketId, 1),
      event("CANCELLED", orderId, ticketId, 2),
    ]);
    expect(await stateOf(ticketId)).toEqual({
      status: "AVAILABLE",
      version: 3,
      updates: [
        [2, "RESERVED"],
        [3, "AVAILABLE"],
      ],
    });
  });

  it("duplicate: order.cancelled delivered twice releases the ticket once", async () => {
    const ticketId = await newTicket();
    const orderId = randomUUID();
    const cancelled = event("CANCELLED", orderId, ticketId, 2);
    await harness.deliverOrderEvents([event("PENDING", orderId, ticketId, 1), cancelled, cancelled]);
    expect(await stateOf(ticketId)).toEqual({
      status: "AVAILABLE",
      version: 3,
      updates: [
        [2, "RESERVED"],
        [3, "AVAILABLE"],
      ],
    });
  });

  it("out of order: order.cancelled (v2) before its order.created (v1) leaves the ticket AVAILABLE and unchanged", async () => {
    const ticketId = await newTicket();
    const orderId = randomUUID();
    await harness.deliverOrderEvents([
      event("CANCELLED", orderId, ticketId, 2),
      event("PENDING", orderId, ticketId, 1),
    ]);
    expect(await stateOf(ticketId)).toEqual({ status: "AVAILABLE", version: 1, updates: [] });
  });

  it("across orders: order A's cancellation arriving after order B's creation keeps the ticket RESERVED for B", async () => {
    const ticketId = await newTicket();
    const [a, b] = [randomUUID(), randomUUID()];
    await harness.deliverOrderEvents([
      event("PENDING", a, ticketId, 1),
      event("PENDING", b, ticketId, 1),
      event("CANCELLED", a, ticketId, 2),
    ]);
    // A and B are different keys, so Kafka may hand them to the consumer in either order (different
    // partitions): the path differs (v2, or v2-v4 via AVAILABLE) but the outcome must not.
    const state = await stateOf(ticketId);
    expect(state.status).toBe("RESERVED");
    expect(state.updates.at(-1)).toEqual([state.version, "RESERVED"]);
    expect(state.version).toBe(1 + state.updates.length);
  });
});

describe("order.completed", () => {
  it("sells the ticket: SOLD, version + 1; a sold ticket stays SOLD when another order is cancelled", async () => {
    const ticketId = await newTicket();
    const [orderId, late] = [randomUUID(), randomUUID()];
    await harness.deliverOrderEvents([
      event("PENDING", orderId, ticketId, 1),
      event("COMPLETED", orderId, ticketId, 2),
      event("CANCELLED", late, ticketId, 2),
    ]);
    expect(await stateOf(ticketId)).toEqual({
      status: "SOLD",
      version: 3,
      updates: [
        [2, "RESERVED"],
        [3, "SOLD"],
      ],
    });
  });

  it("duplicate: order.completed delivered twice sells the ticket once", async () => {
    const ticketId = await newTicket();
    const orderId = randomUUID();
    const completed = event("COMPLETED", orderId, ticketId, 2);
    await harness.deliverOrderEvents([event("PENDING", orderId, ticketId, 1), completed, completed]);
    expect(await stateOf(ticketId)).toEqual({
      status: "SOLD",
      version: 3,
      updates: [
        [2, "RESERVED"],
        [3, "SOLD"],
      ],
    });
  });

  it("out of order: a stale order.cancelled (v2) replayed after order.completed (v3) does not un-sell the ticket", async () => {
    const ticketId = await newTicket();
    const orderId = randomUUID();
    await harness.deliverOrderEvents([
      event("PENDING", orderId, ticketId, 1),
      event("COMPLETED", orderId, ticketId, 3),
      event("CANCELLED", orderId, ticketId, 2),
    ]);
    expect(await stateOf(ticketId)).toEqual({
      status: "SOLD",
      version: 3,
      updates: [
        [2, "RESERVED"],
        [3, "SOLD"],
      ],
    });
  });
});

describe("unusable order events", () => {
  it("an order for an unknown ticket is dead-lettered at once, not retried, and changes nothing", async () => {
    const before = harness.app.orders.status().counts;
    const [ticketsBefore] = await harness.sql("SELECT count(*) AS n FROM tickets.ticket_orders");
    await harness.deliverOrderEvents([event("PENDING", randomUUID(), randomUUID(), 1)]);
    const after = harness.app.orders.status().counts;
    expect(after["dead-lettered"]).toBe(before["dead-lettered"] + 1);
    expect(after.retries).toBe(before.retries);
    expect(await harness.sql("SELECT count(*) AS n FROM tickets.ticket_orders")).toEqual([ticketsBefore]);
  });
});
