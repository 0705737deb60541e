/**
 * Refunds: money captured for an order that can no longer be completed goes back to the buyer.
 *
 * Why it happens at all: payments decides `payForOrder` on its order replica, which learns of a
 * cancellation (by the buyer, or the orders subgraph's expiry) through Kafka, a moment later. A buyer
 * who cancels and pays at once, a capture that lands just after `expiresAt`, or a payments crash
 * between capture and event can all capture money for an order the orders subgraph then refuses
 * (it records such a payment as REFUND_REQUIRED and never completes the order). No synchronous call
 * could close that window without making payments depend on orders being up; the compensation is
 * the refund (a saga's compensating action).
 *
 * The rule, kept in this subgraph: **a SUCCEEDED payment whose order is CANCELLED is refunded.** It is
 * applied on both paths that can make it true, each holding the order replica's row lock so the two
 * cannot miss each other (READ COMMITTED write skew):
 * - the `order.cancelled` handler (the replica row is locked by its upsert) marks the order's SUCCEEDED
 *   payments REFUND_PENDING;
 * - recording a capture (`SELECT … FOR UPDATE` on the replica row first) marks the payment
 *   REFUND_PENDING at once when the replica already says CANCELLED.
 * The refund worker (refund.worker.ts) then calls the provider and records REFUNDED with a
 * `payment.refunded` event.
 */
import type { EventsLogger } from "@boxoffice/events";
import type { PaymentsTx } from "./db.ts";

/**
 * Marks every SUCCEEDED payment of `orderId` REFUND_PENDING inside `tx` when the order replica says
 * the order is CANCELLED (the caller holds the replica row's lock). Idempotent: a second call finds
 * nothing SUCCEEDED.
 * @returns the ids of the payments marked.
 */
export async function requestRefunds(
  tx: PaymentsTx,
  orderId: string,
  logger?: EventsLogger,
): Promise<string[]> {
  const marked = await tx.$queryRaw<Array<{ id: string }>>`
    UPDATE payments SET status = 'REFUND_PENDING', updated_at = now()
    WHERE order_id = ${orderId}::uuid AND status = 'SUCCEEDED'
      AND EXISTS (SELECT 1 FROM order_replica r WHERE r.order_id = ${orderId}::uuid AND r.status = 'CANCELLED')
    RETURNING id::text`;
  for (const { id } of marked) {
    logger?.warn("payment captured for a cancelled order; refunding it", { paymentId: id, orderId });
  }
  return marked.map((m) => m.id);
}
