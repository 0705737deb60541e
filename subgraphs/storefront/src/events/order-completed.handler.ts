import type { BoxofficeEventDefinition, EventHandler, EventOfType } from "@boxoffice/events";
import type { StorefrontTx } from "../db.ts";
import { applyOrderState } from "./order-state.ts";

/**
 * `order.completed`: the order's full state into `orders`. Idempotent (inbox) and version-aware (an
 * older version is a no-op), see order-state.ts.
 */
export function orderCompletedHandler(): EventHandler<
  EventOfType<BoxofficeEventDefinition, "order.completed">,
  StorefrontTx
> {
  return async (event, tx) => {
    await applyOrderState(tx, event.data, event.occurredAt);
  };
}
