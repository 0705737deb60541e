import {
  NonRetryableError,
  type BoxofficeEventDefinition,
  type EventHandler,
  type EventOfType,
  type EventsLogger,
} from "@boxoffice/events";
import type { OrdersTx } from "../db.ts";

/**
 * `payment.refunded`: the payments subgraph returned a capture this subgraph could not apply to its
 * order (recorded REFUND_REQUIRED or AMOUNT_MISMATCH, or DECLINED when payments had closed it as
 * abandoned before the provider captured it late): its `order_payments` row becomes REFUNDED, so
 * what is still owed to buyers is `disposition IN ('REFUND_REQUIRED', 'AMOUNT_MISMATCH')`. The order
 * itself is unchanged. Idempotent (inbox; a second application finds the row REFUNDED).
 *
 * @throws NonRetryableError (→ dead-letter topic, replayable) when the payment's capture was never
 *   recorded here — `payment.succeeded` precedes it on the same partition, so only a replayed or
 *   misrouted message can do that.
 */
export function paymentRefundedHandler(
  logger?: EventsLogger,
): EventHandler<EventOfType<BoxofficeEventDefinition, "payment.refunded">, OrdersTx> {
  return async (event, tx) => {
    const { paymentId, orderId } = event.data;
    const row = await tx.orderPayment.findUnique({ where: { paymentId } });
    if (!row)
      throw new NonRetryableError(`payment ${paymentId} was refunded but its capture is not recorded here`);
    if (row.disposition === "COMPLETED_ORDER") {
      // payments refunds only captures of cancelled orders; an order completed by this payment was not.
      logger?.error("a payment that completed its order was refunded", { paymentId, orderId });
    }
    await tx.orderPayment.update({
      where: { paymentId },
      data: { disposition: "REFUNDED", recordedAt: new Date() },
    });
  };
}
