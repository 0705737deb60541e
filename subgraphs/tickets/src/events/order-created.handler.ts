import type { BoxofficeEventDefinition, EventHandler, EventOfType, Publisher } from "@boxoffice/events";
import type { TicketsTx } from "../db.ts";
import { applyOrderState } from "./order-state.ts";

/**
 * `order.created` (data.status PENDING): reserves the ticket (RESERVED) unless another order already bought it. Idempotent (the consumer's inbox
 * skips a redelivered event) and version-aware (an older version of the order than the one already
 * applied is a no-op), see order-state.ts.
 */
export function orderCreatedHandler(
  publisher: Publisher<BoxofficeEventDefinition>,
): EventHandler<EventOfType<BoxofficeEventDefinition, "order.created">, TicketsTx> {
  return async (event, tx) => {
    await applyOrderState(tx, publisher, event.data);
  };
}
