import type { BoxofficeEventDefinition, EventHandler, EventOfType } from "@boxoffice/events";
import type { PaymentsTx } from "../db.ts";
import { applyOrderState } from "./order-replica.ts";

/**
 * `order.completed` (data.status COMPLETED): records the order in the replica — the order is paid: payForOrder refuses further payments.
 * Idempotent (the consumer's inbox skips a redelivered event) and version-aware (a version of the
 * order not newer than the one already applied is a no-op), see order-replica.ts.
 * @throws NonRetryableError for unusable data (dead-lettered at once).
 */
export function orderCompletedHandler(): EventHandler<
  EventOfType<BoxofficeEventDefinition, "order.completed">,
  PaymentsTx
> {
  return async (event, tx) => {
    await applyOrderState(tx, event.data);
  };
}
