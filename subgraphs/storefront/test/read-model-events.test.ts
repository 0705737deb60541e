/**
 * The read-model consumer, driven by real events produced to Kafka: every handled type has an
 * "applies", a duplicate and an out-of-order test (CONVENTIONS.md).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  orderEvent,
  paymentEvent,
  startHarness,
  ticketEvent,
  userEvent,
  type Harness,
  type OrderSpec,
  type TicketSpec,
} from "./support/harness.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

const listingOf = (id: string) =>
  harness.sql(
    `SELECT title, price_minor AS "priceMinor", currency, seller_id::text AS "sellerId", status::text AS status,
            version, listed_at AS "listedAt"
     FROM storefront.listings WHERE id = $1`,
    [id],
  );
const orderOf = (id: string) =>
  harness.sql(
    `SELECT ticket_id::text AS "ticketId", buyer_id::text AS "buyerId", status::text AS status,
            amount_minor AS "amountMinor", currency, version, placed_at AS "placedAt"
     FROM storefront.orders WHERE id = $1`,
    [id],
  );
const paymentOf = (id: string) =>
  harness.sql(
    `SELECT order_id AS "orderId", outcome::text AS outcome, amount_minor AS "amountMinor", reason, version
     FROM storefront.payments WHERE id = $1`,
    [id],
  );
const inboxCount = async (eventId: string) =>
  (
    await harness.sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM storefront.event_inbox WHERE event_id = $1",
      [eventId],
    )
  )[0]?.n;

const ticket = (version: number, extra: Partial<TicketSpec> = {}): TicketSpec => ({
  ticketId: randomUUID(),
  sellerId: randomUUID(),
  version,
  ...extra,
});
const order = (extra: Partial<OrderSpec> = {}): OrderSpec => ({
  orderId: randomUUID(),
  ticketId: randomUUID(),
  buyerId: randomUUID(),
  version: 1,
  status: "PENDING",
  ...extra,
});

describe("ticket.created", () => {
  it("adds a listing with the ticket's full state, dated by the event", async () => {
    const at = new Date("2026-03-01T10:00:00.000Z");
    const t = ticket(1, { title: "Opera", priceMinor: 4_200, currency: "USD", occurredAt: at });
    await harness.deliver([ticketEvent(t)]);
    expect(await listingOf(t.ticketId)).toEqual([
      {
        title: "Opera",
        priceMinor: 4_200,
        currency: "USD",
        sellerId: t.sellerId,
        status: "AVAILABLE",
        version: 1,
        listedAt: at,
      },
    ]);
  });

  it("a duplicate (the same event twice) leaves one row and one inbox entry", async () => {
    const t = ticket(1);
    const event = ticketEvent(t);
    await harness.deliver([event, event]);
    expect(await listingOf(t.ticketId)).toEqual([expect.objectContaining({ version: 1 })]);
    expect(await inboxCount(event.eventId)).toBe(1);
  });

  it("out of order: ticket.created after ticket.updated v2 keeps v2's state but takes the created date", async () => {
    const created = new Date("2026-03-01T10:00:00.000Z");
    const t = ticket(1, { occurredAt: created });
    await harness.deliver([
      ticketEvent({
        ...t,
        version: 2,
        status: "RESERVED",
        priceMinor: 9_999,
        occurredAt: new Date("2026-03-02T10:00:00.000Z"),
      }),
      ticketEvent(t),
    ]);
    expect(await listingOf(t.ticketId)).toEqual([
      expect.objectContaining({ version: 2, status: "RESERVED", priceMinor: 9_999, listedAt: created }),
    ]);
  });
});

describe("ticket.updated", () => {
  it("replaces the listing's state with the newer version and keeps its listing date", async () => {
    const created = new Date("2026-03-01T10:00:00.000Z");
    const t = ticket(1, { occurredAt: created });
    await harness.deliver([
      ticketEvent(t),
      ticketEvent({ ...t, version: 2, title: "New title", priceMinor: 1_234, status: "SOLD" }),
    ]);
    expect(await listingOf(t.ticketId)).toEqual([
      expect.objectContaining({
        title: "New title",
        priceMinor: 1_234,
        status: "SOLD",
        version: 2,
        listedAt: created,
      }),
    ]);
  });

  it("a duplicate (same event twice, and the same version under a new event id) changes nothing", async () => {
    const t = ticket(1);
    const v2 = ticketEvent({ ...t, version: 2, priceMinor: 2_000 });
    await harness.deliver([ticketEvent(t), v2, v2, ticketEvent({ ...t, version: 2, priceMinor: 7_777 })]);
    expect(await listingOf(t.ticketId)).toEqual([expect.objectContaining({ priceMinor: 2_000, version: 2 })]);
    expect(await inboxCount(v2.eventId)).toBe(1);
  });

  it("out of order: v1, v3, v2 converges on v3", async () => {
    const t = ticket(1);
    await harness.deliver([
      ticketEvent(t),
      ticketEvent({ ...t, version: 3, status: "SOLD", priceMinor: 3_000 }),
      ticketEvent({ ...t, version: 2, status: "RESERVED", priceMinor: 2_000 }),
    ]);
    expect(await listingOf(t.ticketId)).toEqual([
      expect.objectContaining({ status: "SOLD", priceMinor: 3_000, version: 3 }),
    ]);
  });

  it("a ticket id that is not a UUID is dead-lettered, not applied", async () => {
    const t = ticket(2, { ticketId: "not-a-uuid" });
    await harness.deliver([ticketEvent(t)]);
    const rows = await harness.sql("SELECT 1 FROM storefront.listings WHERE seller_id = $1", [t.sellerId]);
    expect(rows).toEqual([]);
    expect(harness.app.readModel.status().counts["dead-lettered"]).toBeGreaterThanOrEqual(1);
  });
});

describe.each([
  ["order.created", "PENDING", 1],
  ["order.cancelled", "CANCELLED", 2],
  ["order.completed", "COMPLETED", 2],
] as const)("%s", (type, status, version) => {
  it("stores the order's full state", async () => {
    const o = order({ status, version, amountMinor: 5_000, currency: "GBP" });
    await harness.deliver([orderEvent(o)]);
    expect(await orderOf(o.orderId)).toEqual([
      expect.objectContaining({
        ticketId: o.ticketId,
        buyerId: o.buyerId,
        status,
        amountMinor: 5_000,
        currency: "GBP",
        version,
      }),
    ]);
  });

  it("a duplicate (the same event twice) is applied once", async () => {
    const o = order({ status, version });
    const event = orderEvent(o);
    await harness.deliver([event, event]);
    expect(await orderOf(o.orderId)).toEqual([expect.objectContaining({ status, version })]);
    expect(await inboxCount(event.eventId)).toBe(1);
  });

  it(`out of order: an older version after ${type} does not roll it back, a newer one wins`, async () => {
    const o = order({ status, version: version + 1 });
    const older = order({ ...o, status: status === "PENDING" ? "CANCELLED" : "PENDING", version });
    await harness.deliver([orderEvent(o), orderEvent(older)]);
    expect(await orderOf(o.orderId)).toEqual([expect.objectContaining({ status, version: version + 1 })]);
  });
});

it("orders are dated by their earliest event (order.created), whatever the delivery order", async () => {
  const placed = new Date("2026-04-01T08:00:00.000Z");
  const o = order({ occurredAt: placed });
  await harness.deliver([
    orderEvent({
      ...o,
      status: "COMPLETED",
      version: 2,
      occurredAt: new Date("2026-04-01T08:05:00.000Z"),
    }),
    orderEvent(o),
  ]);
  expect(await orderOf(o.orderId)).toEqual([
    expect.objectContaining({ status: "COMPLETED", placedAt: placed }),
  ]);
});

describe.each([
  ["payment.succeeded", "SUCCEEDED", "payment.failed", "FAILED"],
  ["payment.failed", "FAILED", "payment.succeeded", "SUCCEEDED"],
] as const)("%s", (type, outcome, otherType, otherOutcome) => {
  it("records the payment's outcome", async () => {
    const p = { paymentId: randomUUID(), orderId: randomUUID(), version: 1, amountMinor: 1_500 };
    await harness.deliver([paymentEvent(type, p)]);
    expect(await paymentOf(p.paymentId)).toEqual([
      {
        orderId: p.orderId,
        outcome,
        amountMinor: 1_500,
        reason: outcome === "FAILED" ? "card_declined" : null,
        version: 1,
      },
    ]);
  });

  it("a duplicate (the same event twice) is applied once", async () => {
    const p = { paymentId: randomUUID(), orderId: randomUUID(), version: 1 };
    const event = paymentEvent(type, p);
    await harness.deliver([event, event]);
    expect(await paymentOf(p.paymentId)).toEqual([expect.objectContaining({ outcome })]);
    expect(await inboxCount(event.eventId)).toBe(1);
  });

  it("out of order: an older outcome of the same payment after this one is ignored", async () => {
    const p = { paymentId: randomUUID(), orderId: randomUUID(), version: 2 };
    await harness.deliver([paymentEvent(type, p), paymentEvent(otherType, { ...p, version: 1 })]);
    expect(await paymentOf(p.paymentId)).toEqual([expect.objectContaining({ outcome, version: 2 })]);
    expect(otherOutcome).not.toBe(outcome);
  });
});

describe("user.registered", () => {
  const userOf = (id: string) =>
    harness.sql(`SELECT version, registered_at AS "registeredAt" FROM storefront.users WHERE id = $1`, [id]);

  it("records the user's id and registration time (not the e-mail)", async () => {
    const id = randomUUID();
    const at = new Date("2026-01-01T00:00:00.000Z");
    await harness.deliver([userEvent(id, at)]);
    expect(await userOf(id)).toEqual([{ version: 1, registeredAt: at }]);
  });

  it("a duplicate (the same event twice, and version 1 again under a new event id) changes nothing", async () => {
    const id = randomUUID();
    const at = new Date("2026-01-01T00:00:00.000Z");
    const event = userEvent(id, at);
    await harness.deliver([event, event, userEvent(id, new Date("2026-02-01T00:00:00.000Z"))]);
    expect(await userOf(id)).toEqual([{ version: 1, registeredAt: at }]);
    expect(await inboxCount(event.eventId)).toBe(1);
  });

  it("out of order: users registered in any order are each recorded once", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await harness.deliver([userEvent(b), userEvent(a), userEvent(b)]);
    expect(await userOf(a)).toHaveLength(1);
    expect(await userOf(b)).toHaveLength(1);
  });
});
