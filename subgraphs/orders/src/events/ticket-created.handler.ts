import type { BoxofficeEventDefinition, EventHandler, EventOfType } from "@boxoffice/events";
import type { OrdersTx } from "../db.ts";
import { applyTicketState } from "./ticket-replica.ts";

/**
 * `ticket.created` (version 1): adds the ticket to the replica, so it can be ordered. Idempotent (the
 * consumer's inbox skips a redelivered event) and version-aware (no-op when a newer `ticket.updated`
 * was applied first), see ticket-replica.ts.
 */
export function ticketCreatedHandler(): EventHandler<
  EventOfType<BoxofficeEventDefinition, "ticket.created">,
  OrdersTx
> {
  return async (event, tx) => {
    await applyTicketState(tx, event.data);
  };
}
