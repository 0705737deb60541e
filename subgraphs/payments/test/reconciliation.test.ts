/**
 * Payments left PENDING that nobody retries (src/reconciliation.worker.ts): settled from the provider's
 * own record of the payment's key — never by charging again — or closed as abandoned when the provider
 * decided nothing, so money is never kept without a `payment.succeeded` and an order is never blocked.
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
  TEST_ABANDON_AFTER_MS,
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
  payForOrder(orderId: $orderId, paymentToken: $token, idempotencyKey: $key) { id status failureReason }
}`;
const pay = (orderId: string, token: string, key: string) =>
  gql(harness, PAY, { orderId, token, key }, buyer);

/** Makes a PENDING payment whose request is over: the client got SERVICE_UNAVAILABLE and went away. */
async function leftPending(orderId: string, token: string, key: string): Promise<string> {
  const { body } = await pay(orderId, token, key);
  expect(body.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
  const paymentId = body.errors?.[0]?.extensions?.paymentId as string;
  const [row] = await harness.sql("SELECT status::text FROM payments.payments WHERE id = $1", [paymentId]);
  expect(row).toEqual({ status: "PENDING" });
  return paymentId;
}

/** Waits out the abandonment window, then runs one reconciliation poll. */
async function reconcileAfterWindow() {
  await new Promise((r) => setTimeout(r, TEST_ABANDON_AFTER_MS + 500));
  return harness.app.reconciliation.runOnce();
}

const statusOf = async (id: string) =>
  (await harness.sql<{ status: string }>("SELECT status::text FROM payments.payments WHERE id = $1", [id]))[0]
    ?.status;

describe("reconciling PENDING payments nobody retries", () => {
  it("captured, response lost, never retried: the provider's record settles it SUCCEEDED with payment.succeeded, and nothing is charged twice", async () => {
    const orderId = await openOrder(harness, buyer);
    const key = randomUUID();
    harness.network.loseResponses = 1;
    const paymentId = await leftPending(orderId, "tok_success", key);
    expect(harness.sandbox.charges().filter((c) => c.idempotencyKey === paymentId)).toHaveLength(1);

    const settled = await reconcileAfterWindow();
    expect(settled.map((p) => [p.id, p.status])).toEqual([[paymentId, "SUCCEEDED"]]);
    expect((await paymentEvents(harness, paymentId)).map((e) => e.event_type)).toEqual(["payment.succeeded"]);
    // The client coming back later with the same key gets that payment; still one capture.
    expect((await pay(orderId, "tok_success", key)).body.data?.payForOrder).toMatchObject({
      id: paymentId,
      status: "SUCCEEDED",
    });
    expect(harness.sandbox.charges().filter((c) => c.idempotencyKey === paymentId)).toHaveLength(1);
    expect(await harness.app.reconciliation.runOnce()).toEqual([]);
  });

  it("captured, response lost, and the order cancelled meanwhile: settled, then refunded", async () => {
    const orderId = await openOrder(harness, buyer);
    harness.network.loseResponses = 1;
    const paymentId = await leftPending(orderId, "tok_success", randomUUID());
    await harness.deliverOrderEvents([
      orderEvent({ status: "CANCELLED", orderId, buyerId: buyer.id, version: 2 }),
    ]);

    const settled = await reconcileAfterWindow();
    expect(settled.map((p) => p.status)).toEqual(["REFUND_PENDING"]);
    await waitUntil(async () => (await statusOf(paymentId)) === "REFUNDED", 20_000, "refunded");
    expect(harness.sandbox.refunds().filter((r) => r.idempotencyKey === `refund-${paymentId}`)).toHaveLength(
      1,
    );
  });

  it("a transient failure never retried: closed FAILED 'abandoned' with payment.failed, and the order can be paid with a new key", async () => {
    const orderId = await openOrder(harness, buyer);
    const paymentId = await leftPending(orderId, "tok_transient", randomUUID());
    // Until then the order is held by that payment.
    const blocked = await pay(orderId, "tok_success", randomUUID());
    expect(blocked.body.errors?.[0]?.extensions).toMatchObject({
      code: "CONFLICT",
      reason: "PAYMENT_IN_PROGRESS",
    });

    const settled = await reconcileAfterWindow();
    expect(settled.map((p) => [p.status, p.failureReason])).toEqual([["FAILED", "abandoned"]]);
    expect((await paymentEvents(harness, paymentId)).map((e) => e.event_type)).toEqual(["payment.failed"]);
    expect(harness.sandbox.charges().filter((c) => c.idempotencyKey === paymentId)).toEqual([]);

    const paid = await pay(orderId, "tok_success", randomUUID());
    expect(paid.body.data?.payForOrder).toMatchObject({ status: "SUCCEEDED" });
  });

  it("a capture that arrives after its payment was closed as abandoned (a provider slower than the window) is refunded", async () => {
    const orderId = await openOrder(harness, buyer);
    let release = () => undefined as void;
    harness.network.holdNext = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inFlight = pay(orderId, "tok_success", randomUUID());
    await waitUntil(
      async () =>
        (await harness.sql("SELECT 1 FROM payments.payments WHERE order_id = $1", [orderId])).length > 0,
      20_000,
      "payment recorded",
    );
    // The provider has decided nothing yet (the call is held before it): the reconciler closes it.
    const closed = await reconcileAfterWindow();
    expect(closed.map((p) => [p.status, p.failureReason])).toEqual([["FAILED", "abandoned"]]);
    const paymentId = closed[0]!.id;

    release(); // the provider captures after all
    const late = (await inFlight).body.data?.payForOrder as { id: string; status: string };
    expect(late).toMatchObject({ id: paymentId, status: "REFUND_PENDING" });
    await waitUntil(async () => (await statusOf(paymentId)) === "REFUNDED", 20_000, "refunded");
    expect(harness.sandbox.charges().filter((c) => c.idempotencyKey === paymentId)).toHaveLength(1);
    expect(harness.sandbox.refunds().filter((r) => r.idempotencyKey === `refund-${paymentId}`)).toHaveLength(
      1,
    );
    expect((await paymentEvents(harness, paymentId)).map((e) => e.event_type)).toEqual([
      "payment.failed",
      "payment.refunded",
    ]);
  });
});
