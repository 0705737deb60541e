import type { BoxofficeEventDefinition, EventHandler, EventOfType } from "@boxoffice/events";
import type { PaymentsTx } from "../db.ts";
import { applyOrderState } from "./order-replica.ts";

/**
 * `order.created` (data.status PENDING): records the order in the replica — an order awaiting payment until expiresAt: payable by its buyer.
 * Idempotent (the consumer's inbox skips a redelivered event) and version-aware (a version of the
 * order not newer than the one already applied is a no-op), see order-replica.ts.
 * @throws NonRetryableError for unusable data (dead-lettered at once).
 */
export function orderCreatedHandler(): EventHandler<
  EventOfType<BoxofficeEventDefinition, "order.created">,
  PaymentsTx
> {
  return async (event, tx) => {
    await applyOrderState(tx, event.data);
  };
}
