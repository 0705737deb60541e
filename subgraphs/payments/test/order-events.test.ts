/**
 * The order-event handlers that feed the order replica, driven by real order events produced to
 * Kafka (envelopes built and validated with the shared registry, as the orders subgraph's publisher
 * does; payments never depends on the orders subgraph). Every handler has an "applies", a duplicate
 * and an out-of-order test (CONVENTIONS.md).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderEvent, startHarness, type Harness, type OrderSpec } from "./support/harness.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

type Order = Omit<OrderSpec, "status">;
const event = (status: OrderSpec["status"], order: Order) => orderEvent({ ...order, status });

/** The replica row of an order, as the payments subgraph sees it (undefined when absent). */
async function replicaOf(orderId: string) {
  const [row] = await harness.sql(
    `SELECT buyer_id::text, ticket_id::text, status::text, amount_minor, currency, expires_at, version
     FROM payments.order_replica WHERE order_id = $1`,
    [orderId],
  );
  return row;
}

function spec(version: number, extra: Partial<Order> = {}): Order {
  return { orderId: randomUUID(), buyerId: randomUUID(), ticketId: randomUUID(), version, ...extra };
}

describe("order.created", () => {
  it("records the order with buyer, ticket, amount, currency, expiry and version", async () => {
    const order = spec(1, { amountMinor: 12_345, currency: "GBP", expiresAt: "2030-01-02T03:04:05.000Z" });
    await harness.deliverOrderEvents([event("PENDING", order)]);
    expect(await replicaOf(order.orderId)).toEqual({
      buyer_id: order.buyerId,
      ticket_id: order.ticketId,
      status: "PENDING",
      amount_minor: 12_345,
      currency: "GBP",
      expires_at: new Date("2030-01-02T03:04:05.000Z"),
      version: 1,
    });
  });

  it("duplicate: the same event twice, and the same version re-published under a new event id, leave one row at version 1", async () => {
    const order = spec(1);
    const created = event("PENDING", order);
    await harness.deliverOrderEvents([created, created, event("PENDING", { ...order, amountMinor: 1 })]);
    expect(await replicaOf(order.orderId)).toMatchObject({
      status: "PENDING",
      amount_minor: 8_500,
      version: 1,
    });
  });

  it("out of order: order.created (v1) arriving after the same order's order.cancelled (v2) is ignored", async () => {
    const order = spec(2);
    await harness.deliverOrderEvents([event("CANCELLED", order), event("PENDING", { ...order, version: 1 })]);
    expect(await replicaOf(order.orderId)).toMatchObject({ status: "CANCELLED", version: 2 });
  });
});

describe("order.cancelled", () => {
  it("closes the order: CANCELLED at version 2", async () => {
    const order = spec(1);
    await harness.deliverOrderEvents([event("PENDING", order), event("CANCELLED", { ...order, version: 2 })]);
    expect(await replicaOf(order.orderId)).toMatchObject({ status: "CANCELLED", version: 2 });
  });

  it("duplicate: order.cancelled delivered twice is applied once", async () => {
    const order = spec(1);
    const cancelled = event("CANCELLED", { ...order, version: 2 });
    await harness.deliverOrderEvents([event("PENDING", order), cancelled, cancelled]);
    expect(await replicaOf(order.orderId)).toMatchObject({ status: "CANCELLED", version: 2 });
    const [inbox] = await harness.sql<{ n: string }>(
      "SELECT count(*) AS n FROM payments.event_inbox WHERE aggregate_id = $1",
      [order.orderId],
    );
    expect(inbox?.n).toBe("2");
  });

  it("out of order: a stale order.cancelled (v2) replayed after order.completed (v3) does not reopen or cancel it", async () => {
    const order = spec(1);
    await harness.deliverOrderEvents([
      event("PENDING", order),
      event("COMPLETED", { ...order, version: 3 }),
      event("CANCELLED", { ...order, version: 2 }),
    ]);
    expect(await replicaOf(order.orderId)).toMatchObject({ status: "COMPLETED", version: 3 });
  });
});

describe("order.completed", () => {
  it("marks the order COMPLETED at version 2", async () => {
    const order = spec(1);
    await harness.deliverOrderEvents([event("PENDING", order), event("COMPLETED", { ...order, version: 2 })]);
    expect(await replicaOf(order.orderId)).toMatchObject({ status: "COMPLETED", version: 2 });
  });

  it("duplicate: order.completed delivered twice is applied once", async () => {
    const order = spec(1);
    const completed = event("COMPLETED", { ...order, version: 2 });
    await harness.deliverOrderEvents([event("PENDING", order), completed, completed]);
    expect(await replicaOf(order.orderId)).toMatchObject({ status: "COMPLETED", version: 2 });
  });

  it("out of order: a stale order.completed (v2) after order.cancelled (v3) leaves the order CANCELLED", async () => {
    const order = spec(1);
    await harness.deliverOrderEvents([
      event("PENDING", order),
      event("CANCELLED", { ...order, version: 3 }),
      event("COMPLETED", { ...order, version: 2 }),
    ]);
    expect(await replicaOf(order.orderId)).toMatchObject({ status: "CANCELLED", version: 3 });
  });
});

describe("unusable order events", () => {
  it("an order whose buyer id is not a UUID is dead-lettered at once, not retried, and writes nothing", async () => {
    const before = harness.app.orders.status().counts;
    const order = spec(1, { buyerId: "not-a-uuid" });
    await harness.deliverOrderEvents([event("PENDING", order)]);
    const after = harness.app.orders.status().counts;
    expect(after["dead-lettered"]).toBe(before["dead-lettered"] + 1);
    expect(after.retries).toBe(before.retries);
    expect(await replicaOf(order.orderId)).toBeUndefined();
  });
});
