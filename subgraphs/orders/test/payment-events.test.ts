/**
 * The payments consumer, driven by real payment events produced to Kafka: `payment.succeeded` and
 * `payment.failed` each have an "applies", a duplicate and an out-of-order test (CONVENTIONS.md), plus
 * the rule that a payment which cannot complete its order is recorded and flagged, never applied.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listTickets, outboxOf, paymentEvent, startHarness, type Harness } from "./support/harness.ts";

let harness: Harness;
const seller = randomUUID();

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

/** A PENDING order (8 500 EUR) of a fresh ticket, placed through the service. */
async function pendingOrder() {
  const [ticketId] = await listTickets(harness, seller);
  return harness.app.services.createOrder(randomUUID(), ticketId!);
}

async function stateOf(orderId: string) {
  const [order] = await harness.sql<{ status: string; version: number }>(
    "SELECT status::text, version FROM orders.orders WHERE id = $1",
    [orderId],
  );
  const events = (await outboxOf(harness, orderId)).map((e) => e.event_type);
  const payments = await harness.sql(
    `SELECT payment_id AS "paymentId", outcome::text, disposition::text, reason FROM orders.order_payments
     WHERE order_id = $1 ORDER BY recorded_at, payment_id`,
    [orderId],
  );
  return { ...order, events, payments };
}

const succeeded = (
  orderId: string,
  extra: { paymentId?: string; amountMinor?: number; currency?: string; occurredAt?: Date } = {},
) => paymentEvent("payment.succeeded", { orderId, ...extra });
const failed = (orderId: string, paymentId?: string) =>
  paymentEvent("payment.failed", { orderId, ...(paymentId ? { paymentId } : {}) });

describe("payment.succeeded", () => {
  it("completes the pending order: COMPLETED, version 2, order.completed with the full state", async () => {
    const order = await pendingOrder();
    const payment = succeeded(order.id);
    await harness.deliver("payments", [payment]);
    const paymentId = (payment.data as { paymentId: string }).paymentId;
    expect(await stateOf(order.id)).toEqual({
      status: "COMPLETED",
      version: 2,
      events: ["order.created", "order.completed"],
      payments: [{ paymentId, outcome: "SUCCEEDED", disposition: "COMPLETED_ORDER", reason: null }],
    });
    const [, completed] = await outboxOf(harness, order.id);
    expect(completed?.payload.data).toEqual({
      orderId: order.id,
      ticketId: order.ticketId,
      buyerId: order.buyerId,
      status: "COMPLETED",
      amountMinor: 8_500,
      currency: "EUR",
      expiresAt: order.expiresAt.toISOString(),
      version: 2,
    });
  });

  it("a duplicate (same event twice, and the same payment under a new event id) completes once", async () => {
    const order = await pendingOrder();
    const paymentId = randomUUID();
    const event = succeeded(order.id, { paymentId });
    await harness.deliver("payments", [event, event, succeeded(order.id, { paymentId })]);
    expect(await stateOf(order.id)).toMatchObject({
      status: "COMPLETED",
      version: 2,
      events: ["order.created", "order.completed"],
      payments: [{ paymentId, disposition: "COMPLETED_ORDER" }],
    });
  });

  it("out of order: the payment's failure delivered after its success changes nothing", async () => {
    const order = await pendingOrder();
    const paymentId = randomUUID();
    await harness.deliver("payments", [succeeded(order.id, { paymentId }), failed(order.id, paymentId)]);
    expect(await stateOf(order.id)).toMatchObject({
      status: "COMPLETED",
      version: 2,
      events: ["order.created", "order.completed"],
      payments: [{ paymentId, outcome: "SUCCEEDED", disposition: "COMPLETED_ORDER" }],
    });
  });

  it("for an order the buyer already cancelled: recorded and flagged REFUND_REQUIRED, the order stays CANCELLED", async () => {
    const order = await pendingOrder();
    await harness.app.services.cancelOrder(order.buyerId, order.id);
    await harness.deliver("payments", [succeeded(order.id)]);
    expect(await stateOf(order.id)).toMatchObject({
      status: "CANCELLED",
      version: 2,
      events: ["order.created", "order.cancelled"],
      payments: [{ outcome: "SUCCEEDED", disposition: "REFUND_REQUIRED" }],
    });
  });

  it("payment.refunded of a REFUND_REQUIRED capture marks it REFUNDED; the order is unchanged", async () => {
    const order = await pendingOrder();
    await harness.app.services.cancelOrder(order.buyerId, order.id);
    const paymentId = randomUUID();
    await harness.deliver("payments", [
      succeeded(order.id, { paymentId }),
      paymentEvent("payment.refunded", { paymentId, orderId: order.id }),
    ]);
    expect(await stateOf(order.id)).toMatchObject({
      status: "CANCELLED",
      version: 2,
      events: ["order.created", "order.cancelled"],
      payments: [{ paymentId, outcome: "SUCCEEDED", disposition: "REFUNDED" }],
    });
  });

  it("captured after expiresAt while the order is still PENDING (worker not run yet): flagged REFUND_REQUIRED, not completed", async () => {
    const order = await pendingOrder();
    await harness.deliver("payments", [
      succeeded(order.id, { occurredAt: new Date(order.expiresAt.getTime() + 1_000) }),
    ]);
    expect(await stateOf(order.id)).toMatchObject({
      status: "PENDING",
      version: 1,
      events: ["order.created"],
      payments: [{ disposition: "REFUND_REQUIRED" }],
    });
  });

  it("with another amount or currency than the order's: flagged AMOUNT_MISMATCH, the order stays PENDING", async () => {
    const order = await pendingOrder();
    await harness.deliver("payments", [
      succeeded(order.id, { amountMinor: 1 }),
      succeeded(order.id, { currency: "USD" }),
    ]);
    expect(await stateOf(order.id)).toMatchObject({
      status: "PENDING",
      version: 1,
      payments: [{ disposition: "AMOUNT_MISMATCH" }, { disposition: "AMOUNT_MISMATCH" }],
    });
  });

  it("a second, different payment for a completed order is flagged REFUND_REQUIRED", async () => {
    const order = await pendingOrder();
    const first = randomUUID();
    const second = randomUUID();
    await harness.deliver("payments", [succeeded(order.id, { paymentId: first })]);
    await harness.deliver("payments", [succeeded(order.id, { paymentId: second })]);
    const state = await stateOf(order.id);
    expect(state).toMatchObject({
      status: "COMPLETED",
      version: 2,
      events: ["order.created", "order.completed"],
    });
    expect(Object.fromEntries(state.payments.map((p) => [p.paymentId, p.disposition]))).toEqual({
      [first]: "COMPLETED_ORDER",
      [second]: "REFUND_REQUIRED",
    });
  });

  it("for an unknown order: nothing is written (dead-lettered for replay)", async () => {
    const orderId = randomUUID();
    const before = harness.app.payments.status().counts["dead-lettered"];
    await harness.deliver("payments", [succeeded(orderId)]);
    const rows = await harness.sql("SELECT 1 FROM orders.order_payments WHERE order_id = $1", [orderId]);
    expect(rows).toEqual([]);
    expect(harness.app.payments.status().counts["dead-lettered"]).toBe(before + 1);
  });
});

describe("payment.failed", () => {
  it("records the decline with its reason; the order stays PENDING and a later success completes it", async () => {
    const order = await pendingOrder();
    const paymentId = randomUUID();
    await harness.deliver("payments", [failed(order.id, paymentId)]);
    expect(await stateOf(order.id)).toEqual({
      status: "PENDING",
      version: 1,
      events: ["order.created"],
      payments: [{ paymentId, outcome: "FAILED", disposition: "DECLINED", reason: "card_declined" }],
    });
    await harness.deliver("payments", [succeeded(order.id)]);
    expect(await stateOf(order.id)).toMatchObject({ status: "COMPLETED", version: 2 });
  });

  it("a duplicate (same event twice, and the same failure under a new event id) records one decline", async () => {
    const order = await pendingOrder();
    const paymentId = randomUUID();
    const event = failed(order.id, paymentId);
    await harness.deliver("payments", [event, event, failed(order.id, paymentId)]);
    expect(await stateOf(order.id)).toMatchObject({
      status: "PENDING",
      version: 1,
      payments: [{ paymentId, disposition: "DECLINED" }],
    });
  });

  it("out of order: a failure delivered after the order was completed by another payment changes nothing", async () => {
    const order = await pendingOrder();
    const declined = randomUUID();
    await harness.deliver("payments", [succeeded(order.id), failed(order.id, declined)]);
    const state = await stateOf(order.id);
    expect(state).toMatchObject({
      status: "COMPLETED",
      version: 2,
      events: ["order.created", "order.completed"],
    });
    expect(state.payments).toContainEqual(
      expect.objectContaining({ paymentId: declined, disposition: "DECLINED" }),
    );
  });
});
