/**
 * The shared core of the two ticket-event handlers: keep `listings` at the newest ticket version
 * seen. Ticket events carry the full state and `data.version` equals `aggregateVersion`, so "apply
 * only if newer" converges for every delivery order (packages/events README, "Replicas never go
 * backwards").
 */
import { applyIfNewer, NonRetryableError } from "@boxoffice/events";
import type { StorefrontTx } from "../db.ts";
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
 * Upserts the listing of `ticket` if its version is newer, then moves `listed_at` back to
 * `occurredAt` (ISO 8601) if that is earlier: whatever the delivery order, a listing ends up dated by
 * its earliest event (`ticket.created`), so a rebuild reproduces the keyset order exactly.
 * @returns `applied` or `stale` (duplicate / older version: state unchanged).
 * @throws NonRetryableError (→ dead-letter topic) when `ticketId` or `sellerId` is not a UUID.
 */
export async function applyListingState(
  tx: StorefrontTx,
  ticket: TicketState,
  occurredAt: string,
): Promise<"applied" | "stale"> {
  if (!isUuid(ticket.ticketId) || !isUuid(ticket.sellerId)) {
    throw new NonRetryableError(`ticket ${ticket.ticketId}: ticketId and sellerId must be UUIDs`);
  }
  const id = ticket.ticketId.toLowerCase();
  const outcome = await applyIfNewer(tx, {
    table: "listings",
    key: { id },
    version: ticket.version,
    values: {
      title: ticket.title,
      price_minor: ticket.priceMinor,
      currency: ticket.currency,
      seller_id: ticket.sellerId.toLowerCase(),
      status: ticket.status,
    },
  });
  await tx.$executeRaw`
    UPDATE listings SET listed_at = ${new Date(occurredAt)} WHERE id = ${id}::uuid AND listed_at > ${new Date(occurredAt)}`;
  return outcome;
}
