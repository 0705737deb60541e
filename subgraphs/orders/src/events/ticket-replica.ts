/**
 * The shared core of the two ticket-event handlers: keep the local ticket replica (`ticket_replica`)
 * at the newest version seen. Ticket events carry the ticket's full state and `data.version` equals
 * the envelope's `aggregateVersion`, so "apply only if newer" converges for every delivery order: a
 * duplicate or an older version (a replayed dead letter, a `ticket.created` after a `ticket.updated`)
 * is a no-op (packages/events README, "Replicas never go backwards").
 */
import { applyIfNewer, NonRetryableError } from "@boxoffice/events";
import type { OrdersTx } from "../db.ts";
import { isUuid } from "@boxoffice/service-kit";

/** The ticket state carried by `ticket.created` and `ticket.updated` (contracts.ts `ticketState`). */
export interface TicketState {
  ticketId: string;
  title: string;
  priceMinor: number;
  currency: string;
  sellerId: string;
  status: "AVAILABLE" | "RESERVED" | "SOLD";
  version: number;
}

/**
 * Upserts the replica row of `ticket` inside the consumer's transaction `tx` if its version is newer.
 * @returns `applied` or `stale` (duplicate / older version: nothing changed).
 * @throws NonRetryableError (→ dead-letter topic) when `ticketId` or `sellerId` is not a UUID: the
 *   replica's columns are UUIDs and retrying cannot help.
 */
export async function applyTicketState(tx: OrdersTx, ticket: TicketState): Promise<"applied" | "stale"> {
  if (!isUuid(ticket.ticketId) || !isUuid(ticket.sellerId)) {
    throw new NonRetryableError(`ticket ${ticket.ticketId}: ticketId and sellerId must be UUIDs`);
  }
  return applyIfNewer(tx, {
    table: "ticket_replica",
    key: { id: ticket.ticketId.toLowerCase() },
    version: ticket.version,
    values: {
      title: ticket.title,
      price_minor: ticket.priceMinor,
      currency: ticket.currency,
      seller_id: ticket.sellerId.toLowerCase(),
      status: ticket.status,
      updated_at: new Date().toISOString(),
    },
  });
}
