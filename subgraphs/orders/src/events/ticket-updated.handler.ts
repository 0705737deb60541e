import type { BoxofficeEventDefinition, EventHandler, EventOfType } from "@boxoffice/events";
import type { OrdersTx } from "../db.ts";
import { applyTicketState } from "./ticket-replica.ts";

/**
 * `ticket.updated`: replaces the replica's title, price, currency, seller and status with the newer
 * state (new orders are priced from it; orders already placed keep their amount). Idempotent and
 * version-aware, see ticket-replica.ts.
 */
export function ticketUpdatedHandler(): EventHandler<
  EventOfType<BoxofficeEventDefinition, "ticket.updated">,
  OrdersTx
> {
  return async (event, tx) => {
    await applyTicketState(tx, event.data);
  };
}
