import type { BoxofficeEventDefinition, EventHandler, EventOfType, EventsLogger } from "@boxoffice/events";
import type { PaymentsTx } from "../db.ts";
import { requestRefunds } from "../refunds.ts";
import { applyOrderState } from "./order-replica.ts";

/**
 * `order.cancelled` (data.status CANCELLED): records the order in the replica — the order is closed:
 * payForOrder refuses it from now on — and marks any payment already captured for it REFUND_PENDING
 * (refunds.ts: a capture raced the cancellation). Idempotent (the consumer's inbox skips a redelivered
 * event; a second marking finds nothing) and version-aware (a version of the order not newer than the
 * one already applied changes nothing), see order-replica.ts.
 * @throws NonRetryableError for unusable data (dead-lettered at once).
 */
export function orderCancelledHandler(
  logger?: EventsLogger,
): EventHandler<EventOfType<BoxofficeEventDefinition, "order.cancelled">, PaymentsTx> {
  return async (event, tx) => {
    // The upsert holds the replica row's lock until commit, so a capture being recorded concurrently
    // either sees CANCELLED or is seen here as SUCCEEDED (refunds.ts).
    await applyOrderState(tx, event.data);
    await requestRefunds(tx, event.data.orderId.toLowerCase(), logger);
  };
}
