import type { BoxofficeEventDefinition, EventHandler, EventOfType, Publisher } from "@boxoffice/events";
import type { TicketsTx } from "../db.ts";
import { applyOrderState } from "./order-state.ts";

/**
 * `order.completed` (data.status COMPLETED): marks the ticket SOLD. Idempotent (the consumer's inbox
 * skips a redelivered event) and version-aware (an older version of the order than the one already
 * applied is a no-op), see order-state.ts.
 */
export function orderCompletedHandler(
  publisher: Publisher<BoxofficeEventDefinition>,
): EventHandler<EventOfType<BoxofficeEventDefinition, "order.completed">, TicketsTx> {
  return async (event, tx) => {
    await applyOrderState(tx, publisher, event.data);
  };
}
