import type { BoxofficeEventDefinition, EventHandler, EventOfType } from "@boxoffice/events";
import type { StorefrontTx } from "../db.ts";
import { applyListingState } from "./listing-state.ts";

/**
 * `ticket.updated`: the ticket's full state into `listings`. Idempotent (the consumer's inbox skips a
 * redelivered event) and version-aware (an older version is a no-op), see listing-state.ts.
 */
export function ticketUpdatedHandler(): EventHandler<
  EventOfType<BoxofficeEventDefinition, "ticket.updated">,
  StorefrontTx
> {
  return async (event, tx) => {
    await applyListingState(tx, event.data, event.occurredAt);
  };
}
