/**
 * Refunds (src/refunds.ts, src/refund.worker.ts): a payment captured for an order that was cancelled
 * — the cancellation reaching payments after the capture, or while the provider call was in flight —
 * is returned to the buyer exactly once, and announced with `payment.refunded`.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  gql,
  openOrder,
  orderEvent,
  paymentEvents,
  signUp,
  startHarness,
  waitUntil,
  type Harness,
  type TestUser,
} from "./support/harness.ts";

let harness: Harness;
let buyer: TestUser;

beforeAll(async () => {
  harness = await startHarness();
  buyer = await signUp();
});
afterAll(async () => {
  await harness?.stop();
});

const PAY = `mutation ($orderId: ID!, $token: String!, $key: String!) {
  payForOrder(orderId: $orderId, paymentToken: $token, idempotencyKey: $key) { id status amountMinor }
}`;

async function pay(orderId: string, token = "tok_success", key = randomUUID()) {
  const { body } = await gql(harness, PAY, { orderId, token, key }, buyer);
  const payment = body.data?.payForOrder as { id: string; status: string } | undefined;
  if (!payment) throw new Error(`payForOrder failed: ${JSON.stringify(body)}`);
  return payment;
}

const cancelled = (orderId: string) =>
  orderEvent({ status: "CANCELLED", orderId, buyerId: buyer.id, version: 2 });

async function statusOf(paymentId: string): Promise<string> {
  const [row] = await harness.sql<{ status: string }>(
    "SELECT status::text FROM payments.payments WHERE id = $1",
    [paymentId],
  );
  return row?.status ?? "missing";
}

const refundsOf = (paymentId: string) =>
  harness.sandbox.refunds().filter((r) => r.idempotencyKey === `refund-${paymentId}`);

describe("refunds", () => {
  it("a capture whose order is cancelled afterwards is refunded once, with payment.refunded; a redelivered cancellation changes nothing", async () => {
    const orderId = await openOrder(harness, buyer);
    const payment = await pay(orderId);
    expect(payment.status).toBe("SUCCEEDED");

    await harness.deliverOrderEvents([cancelled(orderId)]);
    await waitUntil(async () => (await statusOf(payment.id)) === "REFUNDED", 20_000, "refunded");
    const [charge] = harness.sandbox.charges().filter((c) => c.idempotencyKey === payment.id);
    expect(refundsOf(payment.id)).toEqual([
      expect.objectContaining({ chargeReference: charge?.reference, amountMinor: 8_500, currency: "EUR" }),
    ]);
    const events = await paymentEvents(harness, payment.id);
    expect(events.map((e) => [e.event_type, e.aggregate_version])).toEqual([
      ["payment.succeeded", "1"],
      ["payment.refunded", "2"],
    ]);
    // The buyer sees it, and repeating the request returns the same, refunded payment.
    const { body } = await gql(
      harness,
      `query ($id: ID!) { payment(id: $id) { status } }`,
      { id: payment.id },
      buyer,
    );
    expect(body.data?.payment).toEqual({ status: "REFUNDED" });

    await harness.deliverOrderEvents([cancelled(orderId)]);
    await new Promise((r) => setTimeout(r, 1500)); // longer than a refund-worker poll
    expect(refundsOf(payment.id)).toHaveLength(1);
    expect(await paymentEvents(harness, payment.id)).toHaveLength(2);
  });

  it("a cancellation applied while the provider call is in flight: the capture comes back REFUND_PENDING and is refunded", async () => {
    const orderId = await openOrder(harness, buyer);
    let release = () => undefined as void;
    harness.network.holdNext = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inFlight = pay(orderId);
    await waitUntil(
      async () =>
        (await harness.sql("SELECT 1 FROM payments.payments WHERE order_id = $1", [orderId])).length > 0,
      20_000,
      "payment recorded",
    );
    await harness.deliverOrderEvents([cancelled(orderId)]);
    release();
    const payment = await inFlight;
    expect(payment.status).toBe("REFUND_PENDING");
    await waitUntil(async () => (await statusOf(payment.id)) === "REFUNDED", 20_000, "refunded");
    expect(refundsOf(payment.id)).toHaveLength(1);
    expect((await paymentEvents(harness, payment.id)).map((e) => e.event_type)).toEqual([
      "payment.succeeded",
      "payment.refunded",
    ]);
  });

  it("a refund that fails transiently is retried until it succeeds, and made once", async () => {
    const orderId = await openOrder(harness, buyer);
    const payment = await pay(orderId);
    harness.network.failRefunds = 2;
    await harness.deliverOrderEvents([cancelled(orderId)]);
    await waitUntil(async () => (await statusOf(payment.id)) === "REFUNDED", 20_000, "refunded");
    expect(harness.network.failRefunds).toBe(0);
    expect(refundsOf(payment.id)).toHaveLength(1);
    const [row] = await harness.sql(
      "SELECT last_error, refund_reference FROM payments.payments WHERE id = $1",
      [payment.id],
    );
    expect(row).toEqual({ last_error: null, refund_reference: refundsOf(payment.id)[0]?.reference });
  });

  it("declined payments and completed orders are never refunded", async () => {
    const declinedOrder = await openOrder(harness, buyer);
    const declined = await pay(declinedOrder, "tok_decline");
    const completedOrder = await openOrder(harness, buyer);
    const captured = await pay(completedOrder);
    await harness.deliverOrderEvents([
      cancelled(declinedOrder),
      orderEvent({ status: "COMPLETED", orderId: completedOrder, buyerId: buyer.id, version: 2 }),
    ]);
    await new Promise((r) => setTimeout(r, 1500)); // longer than a refund-worker poll
    expect(await statusOf(declined.id)).toBe("FAILED");
    expect(await statusOf(captured.id)).toBe("SUCCEEDED");
    expect(refundsOf(declined.id)).toEqual([]);
    expect(refundsOf(captured.id)).toEqual([]);
  });
});
