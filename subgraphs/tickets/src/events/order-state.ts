/**
 * The shared core of the three order-event handlers: keep a version-aware replica of each order that
 * concerns a ticket, and derive the ticket's status from all of its orders.
 *
 * Why derive instead of "set RESERVED on order.created": events of ONE order arrive in order (one
 * partition per order id), but events of DIFFERENT orders of the same ticket do not (an order
 * cancelled then another created may be delivered the other way round), and a replayed dead letter
 * can deliver an old event late. Applying each order's newest version only (`applyIfNewer`) and
 * deriving the ticket's status from the set — any COMPLETED order → SOLD, else any PENDING → RESERVED,
 * else AVAILABLE — gives the same result for every delivery order.
 *
 * A status change is a change of the ticket aggregate: it bumps the ticket's version and publishes
 * `ticket.updated` in the same transaction as the replica write and the inbox row.
 */
import {
  applyIfNewer,
  NonRetryableError,
  type BoxofficeEventDefinition,
  type Publisher,
} from "@boxoffice/events";
import type { TicketsTx } from "../db.ts";
import type { OrderStatus, TicketStatus } from "../generated/prisma/client.ts";
import { isUuid } from "@boxoffice/service-kit";
import { publishTicketState } from "./ticket-events.ts";

/** The part of an order event's data the tickets subgraph uses. */
export interface OrderState {
  orderId: string;
  ticketId: string;
  status: OrderStatus;
  /** The order's aggregate version (equals the envelope's `aggregateVersion`). */
  version: number;
}

/** What applying an order event did to the ticket. */
export type OrderApplication = "stale" | "unchanged" | "status-changed";

/** The ticket status implied by the statuses of all its orders (see the module comment). */
export function deriveTicketStatus(orders: ReadonlyArray<{ status: OrderStatus }>): TicketStatus {
  if (orders.some((o) => o.status === "COMPLETED")) return "SOLD";
  if (orders.some((o) => o.status === "PENDING")) return "RESERVED";
  return "AVAILABLE";
}

/**
 * Applies one order event inside the consumer's transaction `tx`.
 *
 * @returns `stale` when the replica already holds this or a newer version of the order (duplicate or
 *   out-of-order delivery: nothing changes), `unchanged` when the order was recorded but the ticket's
 *   status stays, `status-changed` when the ticket's status changed (version + 1, `ticket.updated`).
 * @throws NonRetryableError (→ dead-letter topic, kept for inspection) when an id is not a UUID or the
 *   ticket does not exist: retrying cannot help.
 */
export async function applyOrderState(
  tx: TicketsTx,
  publisher: Publisher<BoxofficeEventDefinition>,
  order: OrderState,
): Promise<OrderApplication> {
  if (!isUuid(order.orderId) || !isUuid(order.ticketId)) {
    throw new NonRetryableError(`order ${order.orderId}: orderId and ticketId must be UUIDs`);
  }
  const ticketId = order.ticketId.toLowerCase();
  // Lock the ticket first, as updateTicket does: version bumps of one ticket are serialised.
  const locked = await tx.$queryRaw<Array<{ id: string }>>`
    SELECT id::text FROM tickets WHERE id = ${ticketId}::uuid FOR UPDATE`;
  if (locked.length === 0) {
    throw new NonRetryableError(`order ${order.orderId} refers to unknown ticket ${ticketId}`);
  }
  const applied = await applyIfNewer(tx, {
    table: "ticket_orders",
    key: { order_id: order.orderId.toLowerCase() },
    version: order.version,
    values: { ticket_id: ticketId, status: order.status, updated_at: new Date().toISOString() },
  });
  if (applied === "stale") return "stale";

  const orders = await tx.ticketOrder.findMany({ where: { ticketId }, select: { status: true } });
  const status = deriveTicketStatus(orders);
  const ticket = await tx.ticket.findUniqueOrThrow({ where: { id: ticketId } });
  if (ticket.status === status) return "unchanged";
  const updated = await tx.ticket.update({
    where: { id: ticketId },
    data: { status, version: { increment: 1 }, updatedAt: new Date() },
  });
  await publishTicketState(tx, publisher, updated);
  return "status-changed";
}
