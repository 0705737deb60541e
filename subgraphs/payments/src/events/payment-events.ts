/**
 * What the payments subgraph publishes: `payment.succeeded` or `payment.failed`, exactly one per
 * payment, written to the outbox in the transaction that records the provider's outcome
 * (packages/events, transactional outbox). The PENDING phase before it is internal and publishes
 * nothing, so the outcome event is the payment aggregate's version 1; the outbox's unique
 * (aggregate, version) index makes a second outcome event for one payment impossible. A captured
 * payment that is refunded (refunds.ts) then publishes `payment.refunded`, version 2, once.
 */
import type { BoxofficeEventDefinition, Publisher } from "@boxoffice/events";
import type { PaymentsTx } from "../db.ts";
import type { Payment } from "../generated/prisma/client.ts";

/** The `producer` written to every envelope this subgraph publishes. */
export const PRODUCER = "payments";

/** The aggregate version of a payment's outcome event. */
export const PAYMENT_EVENT_VERSION = 1;
/** The aggregate version of `payment.refunded` (after the outcome `payment.succeeded`). */
export const PAYMENT_REFUNDED_VERSION = 2;

/**
 * Writes the outcome event of a SUCCEEDED or FAILED `payment` to the outbox through `tx`:
 * data `{ paymentId, orderId, amountMinor, currency, reason? }`.
 * @throws Error for a PENDING payment (a bug); InvalidEventError when the data violates the contract;
 *   the driver's unique violation when this payment's event was already written.
 */
export async function publishPaymentOutcome(
  tx: PaymentsTx,
  publisher: Publisher<BoxofficeEventDefinition>,
  payment: Payment,
): Promise<void> {
  const data = {
    paymentId: payment.id,
    orderId: payment.orderId,
    amountMinor: payment.amountMinor,
    currency: payment.currency,
  };
  const common = {
    schemaVersion: 1,
    aggregateId: payment.id,
    aggregateVersion: PAYMENT_EVENT_VERSION,
  } as const;
  if (payment.status === "SUCCEEDED") {
    await publisher.publish(tx, { type: "payment.succeeded", ...common, data });
  } else if (payment.status === "FAILED") {
    await publisher.publish(tx, {
      type: "payment.failed",
      ...common,
      data: { ...data, reason: payment.failureReason ?? "declined" },
    });
  } else {
    throw new Error(`payment ${payment.id} is ${payment.status}: only an outcome is published`);
  }
}

/**
 * Writes `payment.refunded` for a REFUNDED `payment` to the outbox through `tx`: data
 * `{ paymentId, orderId, amountMinor, currency }`, aggregate version 2.
 * @throws Error for a payment that is not REFUNDED (a bug); the driver's unique violation when this
 *   payment's refund event was already written.
 */
export async function publishPaymentRefunded(
  tx: PaymentsTx,
  publisher: Publisher<BoxofficeEventDefinition>,
  payment: Payment,
): Promise<void> {
  if (payment.status !== "REFUNDED")
    throw new Error(`payment ${payment.id} is ${payment.status}, not REFUNDED`);
  await publisher.publish(tx, {
    type: "payment.refunded",
    schemaVersion: 1,
    aggregateId: payment.id,
    aggregateVersion: PAYMENT_REFUNDED_VERSION,
    data: {
      paymentId: payment.id,
      orderId: payment.orderId,
      amountMinor: payment.amountMinor,
      currency: payment.currency,
    },
  });
}
