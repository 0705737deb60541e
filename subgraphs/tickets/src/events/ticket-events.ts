/**
 * What the tickets subgraph publishes: `ticket.created` (version 1) and `ticket.updated` (every later
 * version), each carrying the ticket's full state, written to the outbox in the transaction that
 * changes the ticket (packages/events, transactional outbox).
 */
import type { BoxofficeEventDefinition, Publisher } from "@boxoffice/events";
import type { TicketsTx } from "../db.ts";
import type { Ticket } from "../generated/prisma/client.ts";

/** The `producer` written to every envelope this subgraph publishes. */
export const PRODUCER = "tickets";

/**
 * Writes the event for `ticket`'s current version to the outbox through `tx`: `ticket.created` for
 * version 1, `ticket.updated` otherwise.
 * @throws InvalidEventError when the state violates the event contract (a bug: inputs are validated
 *   before), or the driver's unique violation when this version was already published.
 */
export async function publishTicketState(
  tx: TicketsTx,
  publisher: Publisher<BoxofficeEventDefinition>,
  ticket: Ticket,
): Promise<void> {
  const data = {
    ticketId: ticket.id,
    title: ticket.title,
    priceMinor: ticket.priceMinor,
    currency: ticket.currency,
    sellerId: ticket.sellerId,
    status: ticket.status,
    version: ticket.version,
  };
  const common = {
    schemaVersion: 1,
    aggregateId: ticket.id,
    aggregateVersion: ticket.version,
    data,
  } as const;
  if (ticket.version === 1) await publisher.publish(tx, { type: "ticket.created", ...common });
  else await publisher.publish(tx, { type: "ticket.updated", ...common });
}
