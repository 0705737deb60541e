/**
 * The shared core of the two payment-event handlers: record every payment reported for an order
 * (`order_payments`, one row per payment id) and complete the order when, and only when, the rules
 * below allow it.
 *
 * Rules (a succeeded payment is money taken from the buyer, so it is never dropped silently):
 * - `payment.succeeded` COMPLETES the order (version + 1, `order.completed`) only when the order is
 *   PENDING, the payment's `occurredAt` (when the provider captured it) is not after the order's
 *   `expiresAt`, and amount and currency equal the order's. A capture after `expiresAt` completes
 *   nothing even if the expiration worker has not cancelled the order yet, so the outcome does not
 *   depend on how fast the worker runs.
 * - Otherwise the payment is recorded and flagged: REFUND_REQUIRED (order cancelled, expired, or
 *   already completed by another payment) or AMOUNT_MISMATCH; a warning is logged. The order is
 *   unchanged (a cancelled ticket may already be someone else's).
 * - `payment.failed` is recorded as DECLINED; the order stays PENDING (the buyer may retry) until it is
 *   paid, cancelled or expires.
 *
 * Payment events carry no aggregate version, so ordering is handled here: per payment id they arrive
 * in order (one partition per payment), and a success is final — a `payment.failed` delivered after
 * the same payment's `payment.succeeded` (a replayed dead letter) changes nothing; a duplicate is
 * skipped by the consumer's inbox, and a second delivery under another event id finds the row.
 */
import {
  NonRetryableError,
  type BoxofficeEventDefinition,
  type EventsLogger,
  type Publisher,
} from "@boxoffice/events";
import type { OrdersTx } from "../db.ts";
import type { PaymentDisposition, PaymentOutcome } from "../generated/prisma/client.ts";
import { isUuid } from "@boxoffice/service-kit";
import { publishOrderState } from "./order-events.ts";

/** The payment data of `payment.succeeded` / `payment.failed` (contracts.ts `payment`). */
export interface PaymentReport {
  paymentId: string;
  orderId: string;
  amountMinor: number;
  currency: string;
  reason?: string | undefined;
}

/** What recording a payment did: `stale` when an earlier event of this payment already decided it. */
export type PaymentApplication = PaymentDisposition | "stale";

/**
 * Records `payment` with `outcome` (captured or declined at `occurredAt`) inside the consumer's
 * transaction `tx`, completing the order per the module rules.
 * @returns the disposition recorded, or `stale` (nothing changed).
 * @throws NonRetryableError (→ dead-letter topic, replayable later) when `orderId` is not a UUID or
 *   no such order exists here.
 */
export async function recordPayment(
  tx: OrdersTx,
  publisher: Publisher<BoxofficeEventDefinition>,
  payment: PaymentReport,
  outcome: PaymentOutcome,
  occurredAt: Date,
  logger?: EventsLogger,
): Promise<PaymentApplication> {
  if (!isUuid(payment.orderId)) {
    throw new NonRetryableError(`payment ${payment.paymentId}: orderId ${payment.orderId} is not a UUID`);
  }
  const orderId = payment.orderId.toLowerCase();
  // Lock the order: cancelOrder and the expiration worker take turns with this.
  const locked = await tx.$queryRaw<Array<{ id: string }>>`
    SELECT id::text FROM orders WHERE id = ${orderId}::uuid FOR UPDATE`;
  if (locked.length === 0) {
    throw new NonRetryableError(`payment ${payment.paymentId} refers to unknown order ${orderId}`);
  }
  const previous = await tx.orderPayment.findUnique({ where: { paymentId: payment.paymentId } });
  if (previous && (previous.outcome === "SUCCEEDED" || outcome === "FAILED")) return "stale";

  const order = await tx.order.findUniqueOrThrow({ where: { id: orderId } });
  let disposition: PaymentDisposition;
  if (outcome === "FAILED") disposition = "DECLINED";
  else if (order.status !== "PENDING" || occurredAt > order.expiresAt) disposition = "REFUND_REQUIRED";
  else if (payment.amountMinor !== order.amountMinor || payment.currency !== order.currency) {
    disposition = "AMOUNT_MISMATCH";
  } else disposition = "COMPLETED_ORDER";

  const row = {
    orderId,
    outcome,
    disposition,
    amountMinor: payment.amountMinor,
    currency: payment.currency,
    reason: payment.reason ?? null,
    occurredAt,
  };
  await tx.orderPayment.upsert({
    where: { paymentId: payment.paymentId },
    create: { paymentId: payment.paymentId, ...row },
    update: { ...row, recordedAt: new Date() },
  });

  if (disposition === "COMPLETED_ORDER") {
    const completed = await tx.order.update({
      where: { id: orderId },
      data: { status: "COMPLETED", version: { increment: 1 }, updatedAt: new Date() },
    });
    await publishOrderState(tx, publisher, completed);
  } else if (disposition !== "DECLINED") {
    logger?.warn("payment captured for an order it cannot complete; refund needed", {
      paymentId: payment.paymentId,
      orderId,
      disposition,
      orderStatus: order.status,
      orderExpiresAt: order.expiresAt.toISOString(),
      paymentOccurredAt: occurredAt.toISOString(),
    });
  }
  return disposition;
}
