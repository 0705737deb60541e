/**
 * `payForOrder` against real PostgreSQL and Kafka, the real accounts subgraph for tokens, orders fed
 * through real order events, and the built-in sandbox provider (behind a double of its network where
 * a test needs lost responses or a stuck call). Success, decline, transient failure, idempotency,
 * concurrency, crash recovery, and refusals that write nothing and publish nothing.
 */
import { randomUUID } from "node:crypto";
import { createKafka, readTopic } from "@boxoffice/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  gql,
  openOrder,
  orderEvent,
  paymentEvents,
  signUp,
  startHarness,
  waitUntil,
  writeCounts,
  type Harness,
  type TestUser,
} from "./support/harness.ts";

let harness: Harness;
let buyer: TestUser;
let other: TestUser;

beforeAll(async () => {
  harness = await startHarness();
  [buyer, other] = await Promise.all([signUp(), signUp()]);
});
afterAll(async () => {
  await harness?.stop();
});

const PAYMENT_FIELDS = "id status amountMinor currency failureReason createdAt order { id } buyer { id }";
const PAY = `mutation ($orderId: ID!, $token: String!, $key: String!) {
  payForOrder(orderId: $orderId, paymentToken: $token, idempotencyKey: $key) { ${PAYMENT_FIELDS} }
}`;

interface PaymentView {
  id: string;
  status: string;
  amountMinor: number;
  currency: string;
  failureReason: string | null;
  createdAt: string;
  order: { id: string };
  buyer: { id: string };
}

function pay(orderId: string, token: string, key: string, user: TestUser = buyer) {
  return gql(harness, PAY, { orderId, token, key }, user);
}

async function paid(
  orderId: string,
  token: string,
  key: string,
  user: TestUser = buyer,
): Promise<PaymentView> {
  const { body } = await pay(orderId, token, key, user);
  const payment = body.data?.payForOrder as PaymentView | undefined;
  if (!payment) throw new Error(`payForOrder failed: ${JSON.stringify(body.errors)}`);
  return payment;
}

describe("payForOrder: outcomes", () => {
  it("tok_success: SUCCEEDED for the order's amount, one capture, payment.succeeded written and relayed to Kafka", async () => {
    const orderId = await openOrder(harness, buyer, { amountMinor: 12_000, currency: "EUR" });
    const payment = await paid(orderId, "tok_success", randomUUID());
    expect(payment).toMatchObject({
      status: "SUCCEEDED",
      amountMinor: 12_000,
      currency: "EUR",
      failureReason: null,
      order: { id: orderId },
      buyer: { id: buyer.id },
    });
    expect(new Date(payment.createdAt).toISOString()).toBe(payment.createdAt);
    expect(harness.sandbox.charges().filter((c) => c.idempotencyKey === payment.id)).toMatchObject([
      { amountMinor: 12_000, currency: "EUR" },
    ]);
    expect(await paymentEvents(harness, payment.id)).toEqual([
      {
        event_type: "payment.succeeded",
        aggregate_version: "1",
        data: { paymentId: payment.id, orderId, amountMinor: 12_000, currency: "EUR" },
      },
    ]);
    await waitUntil(
      async () =>
        (
          await harness.sql(
            "SELECT 1 FROM payments.event_outbox WHERE aggregate_id = $1 AND published_at IS NULL",
            [payment.id],
          )
        ).length === 0,
      20_000,
      "payment event relayed",
    );
    const kafka = createKafka({
      clientId: "payments-test-reader",
      brokers: (process.env.KAFKA_BROKERS ?? "").split(","),
    });
    const records = await readTopic(kafka, {
      topic: harness.registry.topicFor("payment"),
      timeoutMs: 30_000,
    });
    const mine = records.filter((r) => r.key?.toString() === payment.id);
    expect(mine).toHaveLength(1);
    expect(JSON.parse(mine[0]?.value?.toString() ?? "null")).toMatchObject({
      type: "payment.succeeded",
      aggregateType: "payment",
      aggregateId: payment.id,
      aggregateVersion: 1,
      producer: "payments",
      data: { paymentId: payment.id, orderId, amountMinor: 12_000, currency: "EUR" },
    });
  });

  it("tok_decline: FAILED with the reason, payment.failed written, the order stays open and a new key pays it", async () => {
    const orderId = await openOrder(harness, buyer);
    const declined = await paid(orderId, "tok_decline", randomUUID());
    expect(declined).toMatchObject({ status: "FAILED", failureReason: "card_declined", amountMinor: 8_500 });
    expect(await paymentEvents(harness, declined.id)).toEqual([
      {
        event_type: "payment.failed",
        aggregate_version: "1",
        data: {
          paymentId: declined.id,
          orderId,
          amountMinor: 8_500,
          currency: "EUR",
          reason: "card_declined",
        },
      },
    ]);
    expect(harness.sandbox.charges().some((c) => c.idempotencyKey === declined.id)).toBe(false);

    const retried = await paid(orderId, "tok_success", randomUUID());
    expect(retried.status).toBe("SUCCEEDED");
    expect(retried.id).not.toBe(declined.id);
  });

  it("tok_insufficient_funds and an unknown token are declined with their reasons", async () => {
    const first = await paid(await openOrder(harness, buyer), "tok_insufficient_funds", randomUUID());
    expect(first).toMatchObject({ status: "FAILED", failureReason: "insufficient_funds" });
    const second = await paid(await openOrder(harness, buyer), "tok_made_up", randomUUID());
    expect(second).toMatchObject({ status: "FAILED", failureReason: "invalid_token" });
  });

  it("tok_transient: SERVICE_UNAVAILABLE and PENDING with no event; the retry with the same key charges exactly once", async () => {
    const orderId = await openOrder(harness, buyer);
    const key = randomUUID();
    const failed = await pay(orderId, "tok_transient", key);
    expect(failed.body.errors?.[0]?.extensions).toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      retryable: true,
    });
    const paymentId = failed.body.errors?.[0]?.extensions?.paymentId as string;
    const [pending] = await harness.sql(
      "SELECT status::text, attempts FROM payments.payments WHERE id = $1",
      [paymentId],
    );
    expect(pending).toEqual({ status: "PENDING", attempts: 1 });
    expect(await paymentEvents(harness, paymentId)).toEqual([]);

    const payment = await paid(orderId, "tok_transient", key);
    expect(payment).toMatchObject({ id: paymentId, status: "SUCCEEDED" });
    expect(harness.sandbox.charges().filter((c) => c.idempotencyKey === paymentId)).toHaveLength(1);
    expect((await paymentEvents(harness, paymentId)).map((e) => e.event_type)).toEqual(["payment.succeeded"]);
    // A third call is a replay: same payment, no provider call, no event.
    const calls = harness.sandbox.calls(paymentId);
    expect(await paid(orderId, "tok_transient", key)).toEqual(payment);
    expect(harness.sandbox.calls(paymentId)).toBe(calls);
    expect(await paymentEvents(harness, paymentId)).toHaveLength(1);
  });

  it("tok_transient_2: two transient failures, then the third attempt captures once", async () => {
    const orderId = await openOrder(harness, buyer);
    const key = randomUUID();
    for (let i = 0; i < 2; i += 1) {
      expect((await pay(orderId, "tok_transient_2", key)).body.errors?.[0]?.extensions?.code).toBe(
        "SERVICE_UNAVAILABLE",
      );
    }
    const payment = await paid(orderId, "tok_transient_2", key);
    expect(payment.status).toBe("SUCCEEDED");
    expect(harness.sandbox.calls(payment.id)).toBe(3);
    expect(harness.sandbox.charges().filter((c) => c.idempotencyKey === payment.id)).toHaveLength(1);
  });
});

describe("payForOrder: idempotency", () => {
  it("the same key twice returns the first payment: one capture, one event", async () => {
    const orderId = await openOrder(harness, buyer);
    const key = randomUUID();
    const first = await paid(orderId, "tok_success", key);
    const before = await writeCounts(harness);
    const second = await paid(orderId, "tok_success", key);
    expect(second).toEqual(first);
    expect(await writeCounts(harness)).toEqual(before);
    expect(await paymentEvents(harness, first.id)).toHaveLength(1);
  });

  it("the same key after a decline returns the FAILED payment (a new attempt needs a new key)", async () => {
    const orderId = await openOrder(harness, buyer);
    const key = randomUUID();
    const declined = await paid(orderId, "tok_decline", key);
    const before = await writeCounts(harness);
    expect(await paid(orderId, "tok_decline", key)).toEqual(declined);
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("the same key with a different order or token is refused with BAD_USER_INPUT, writing nothing", async () => {
    const orderId = await openOrder(harness, buyer);
    const otherOrder = await openOrder(harness, buyer);
    const key = randomUUID();
    await paid(orderId, "tok_success", key);
    const before = await writeCounts(harness);
    for (const [order, token] of [
      [otherOrder, "tok_success"],
      [orderId, "tok_decline"],
    ] as const) {
      const { body } = await pay(order, token, key);
      expect(body.errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "idempotencyKey",
        reason: "IDEMPOTENCY_KEY_REUSED",
      });
    }
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("keys are per buyer: another buyer's key with the same text is a different payment", async () => {
    const key = `order-checkout-${randomUUID()}`;
    const mine = await paid(await openOrder(harness, buyer), "tok_success", key);
    const theirs = await paid(await openOrder(harness, other), "tok_success", key, other);
    expect(theirs.id).not.toBe(mine.id);
    expect(theirs.buyer.id).toBe(other.id);
  });

  it("10 concurrent calls with the same key: one payment, one capture, one event, every caller gets it", async () => {
    const orderId = await openOrder(harness, buyer);
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 10 }, () => pay(orderId, "tok_success", key)));
    const payments = results.map((r) => r.body.data?.payForOrder as PaymentView | undefined);
    expect(results.map((r) => r.body.errors)).toEqual(Array.from({ length: 10 }, () => undefined));
    const ids = new Set(payments.map((p) => p?.id));
    expect(ids.size).toBe(1);
    const [paymentId] = [...ids];
    expect(payments[0]?.status).toBe("SUCCEEDED");
    const rows = await harness.sql("SELECT id FROM payments.payments WHERE order_id = $1", [orderId]);
    expect(rows).toHaveLength(1);
    expect(harness.sandbox.charges().filter((c) => c.idempotencyKey === paymentId)).toHaveLength(1);
    expect(await paymentEvents(harness, paymentId!)).toHaveLength(1);
  });

  it("concurrent calls with DIFFERENT keys for one order: one capture; the others are refused with CONFLICT", async () => {
    const orderId = await openOrder(harness, buyer);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => pay(orderId, "tok_success", randomUUID())),
    );
    const succeeded = results.filter((r) => r.body.data?.payForOrder);
    expect(succeeded).toHaveLength(1);
    for (const refused of results.filter((r) => !r.body.data?.payForOrder)) {
      expect(refused.body.errors?.[0]?.extensions?.code).toBe("CONFLICT");
      expect(["ALREADY_PAID", "PAYMENT_IN_PROGRESS"]).toContain(refused.body.errors?.[0]?.extensions?.reason);
    }
    const rows = await harness.sql("SELECT status::text FROM payments.payments WHERE order_id = $1", [
      orderId,
    ]);
    expect(rows).toEqual([{ status: "SUCCEEDED" }]);
  });

  it("the provider's response is lost after it captured: the retry with the same key records that capture, no second charge", async () => {
    const orderId = await openOrder(harness, buyer);
    const key = randomUUID();
    harness.network.loseResponses = 1;
    const lost = await pay(orderId, "tok_success", key);
    expect(lost.body.errors?.[0]?.extensions).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
    const paymentId = lost.body.errors?.[0]?.extensions?.paymentId as string;
    // The money moved, the payment is still PENDING: the state a crash between charge and record leaves.
    expect(harness.sandbox.charges().filter((c) => c.idempotencyKey === paymentId)).toHaveLength(1);
    expect(await paymentEvents(harness, paymentId)).toEqual([]);

    const payment = await paid(orderId, "tok_success", key);
    expect(payment).toMatchObject({ id: paymentId, status: "SUCCEEDED" });
    expect(harness.sandbox.charges().filter((c) => c.idempotencyKey === paymentId)).toHaveLength(1);
    expect((await paymentEvents(harness, paymentId)).map((e) => e.event_type)).toEqual(["payment.succeeded"]);
  });

  it("a request stuck in the provider past its lease: a retry takes over; one capture, one event for both", async () => {
    const orderId = await openOrder(harness, buyer);
    const key = randomUUID();
    let release = () => undefined as void;
    harness.network.holdNext = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stuck = pay(orderId, "tok_success", key);
    await waitUntil(
      async () =>
        (await harness.sql("SELECT 1 FROM payments.payments WHERE order_id = $1", [orderId])).length > 0,
      20_000,
      "first attempt recorded",
    );
    // Waits for the stuck attempt's lease (2 s in tests) to lapse, then charges under the same payment id.
    const retry = await paid(orderId, "tok_success", key);
    expect(retry.status).toBe("SUCCEEDED");
    release();
    const late = (await stuck).body.data?.payForOrder as PaymentView;
    expect(late).toEqual(retry);
    expect(harness.sandbox.charges().filter((c) => c.idempotencyKey === retry.id)).toHaveLength(1);
    expect(await paymentEvents(harness, retry.id)).toHaveLength(1);
  });
});

describe("payForOrder: refusals write nothing and publish nothing", () => {
  it("refuses an anonymous caller with UNAUTHENTICATED", async () => {
    const orderId = await openOrder(harness, buyer);
    const before = await writeCounts(harness);
    const { body } = await gql(harness, PAY, { orderId, token: "tok_success", key: randomUUID() });
    expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("refuses someone else's order with FORBIDDEN and an unknown order with NOT_FOUND", async () => {
    const orderId = await openOrder(harness, buyer);
    const before = await writeCounts(harness);
    const forbidden = await pay(orderId, "tok_success", randomUUID(), other);
    expect(forbidden.body.errors?.[0]).toMatchObject({
      message: "Only the order's buyer can pay for it.",
      extensions: { code: "FORBIDDEN" },
    });
    const unknown = await pay(randomUUID(), "tok_success", randomUUID());
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("refuses a cancelled, a completed and an expired order with CONFLICT and a reason", async () => {
    const cancelled = randomUUID();
    const completed = randomUUID();
    const base = { buyerId: buyer.id, ticketId: randomUUID() };
    await harness.deliverOrderEvents([
      orderEvent({ status: "PENDING", ...base, orderId: cancelled, version: 1 }),
      orderEvent({ status: "CANCELLED", ...base, orderId: cancelled, version: 2 }),
      orderEvent({ status: "PENDING", ...base, orderId: completed, version: 1 }),
      orderEvent({ status: "COMPLETED", ...base, orderId: completed, version: 2 }),
    ]);
    const expired = await openOrder(harness, buyer, {
      expiresAt: new Date(Date.now() - 1_000).toISOString(),
    });
    // Inside the 5 s margin before expiresAt: a capture could land after it, so it is refused too.
    const expiring = await openOrder(harness, buyer, {
      expiresAt: new Date(Date.now() + 3_000).toISOString(),
    });
    const tooLate =
      "This order has expired (or expires in a few seconds, too late to pay); its reservation lapsed.";
    const before = await writeCounts(harness);
    for (const [orderId, reason, message] of [
      [cancelled, "ORDER_CANCELLED", "This order was cancelled."],
      [completed, "ORDER_COMPLETED", "This order is already completed."],
      [expired, "ORDER_EXPIRED", tooLate],
      [expiring, "ORDER_EXPIRED", tooLate],
    ] as const) {
      const { body } = await pay(orderId, "tok_success", randomUUID());
      expect(body.errors?.[0]).toMatchObject({ message, extensions: { code: "CONFLICT", reason } });
    }
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("refuses a second payment of a paid order with CONFLICT (ALREADY_PAID)", async () => {
    const orderId = await openOrder(harness, buyer);
    await paid(orderId, "tok_success", randomUUID());
    const before = await writeCounts(harness);
    const { body } = await pay(orderId, "tok_success", randomUUID());
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", reason: "ALREADY_PAID" });
    expect(await writeCounts(harness)).toEqual(before);
  });

  it("a retry of a PENDING payment is refused with CONFLICT once its order was cancelled; nothing is charged", async () => {
    const orderId = await openOrder(harness, buyer);
    const key = randomUUID();
    expect((await pay(orderId, "tok_transient", key)).body.errors?.[0]?.extensions?.code).toBe(
      "SERVICE_UNAVAILABLE",
    );
    await harness.deliverOrderEvents([
      orderEvent({ status: "CANCELLED", orderId, buyerId: buyer.id, version: 2 }),
    ]);
    const before = await writeCounts(harness);
    const { body } = await pay(orderId, "tok_transient", key);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", reason: "ORDER_CANCELLED" });
    expect(await writeCounts(harness)).toEqual(before);
  });

  const huge = "x".repeat(10_240);
  it.each([
    ["a malformed order id", { orderId: "not-a-uuid" }, "orderId"],
    ["an injection attempt as order id", { orderId: "1; DROP TABLE payments" }, "orderId"],
    ["a 10 KB order id", { orderId: huge }, "orderId"],
    ["an empty token", { token: "" }, "paymentToken"],
    ["a blank token", { token: "   " }, "paymentToken"],
    ["a 10 KB token", { token: huge }, "paymentToken"],
    ["a 201-character token", { token: "t".repeat(201) }, "paymentToken"],
    ["a token with control characters", { token: "tok_success\u0000" }, "paymentToken"],
    ["an empty idempotency key", { key: "" }, "idempotencyKey"],
    ["a 10 KB idempotency key", { key: huge }, "idempotencyKey"],
    ["an idempotency key with spaces", { key: "my key" }, "idempotencyKey"],
    ["a non-ASCII idempotency key", { key: "clé-é" }, "idempotencyKey"],
  ])("refuses %s with BAD_USER_INPUT", async (_name, override, field) => {
    const orderId = await openOrder(harness, buyer);
    const before = await writeCounts(harness);
    const { body } = await gql(
      harness,
      PAY,
      { orderId, token: "tok_success", key: randomUUID(), ...override },
      buyer,
    );
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    expect(await writeCounts(harness)).toEqual(before);
  });
});
