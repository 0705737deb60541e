/**
 * The shared core of the three order-event handlers: keep `orders` at the newest order version seen
 * (order events carry the full state; `data.version` equals `aggregateVersion`).
 */
import { applyIfNewer, NonRetryableError } from "@boxoffice/events";
import type { StorefrontTx } from "../db.ts";
import { isUuid } from "@boxoffice/service-kit";

/** The order state carried by `order.created`, `order.cancelled` and `order.completed`. */
export interface OrderState {
  orderId: string;
  ticketId: string;
  buyerId: string;
  status: "PENDING" | "CANCELLED" | "COMPLETED";
  amountMinor: number;
  currency: string;
  version: number;
}

/**
 * Upserts the order if its version is newer, then dates it (`placed_at`) by its earliest event time
 * `occurredAt` (ISO 8601), whatever the delivery order.
 * @returns `applied` or `stale`.
 * @throws NonRetryableError (→ dead-letter topic) when an id is not a UUID.
 */
export async function applyOrderState(
  tx: StorefrontTx,
  order: OrderState,
  occurredAt: string,
): Promise<"applied" | "stale"> {
  if (!isUuid(order.orderId) || !isUuid(order.ticketId) || !isUuid(order.buyerId)) {
    throw new NonRetryableError(`order ${order.orderId}: orderId, ticketId and buyerId must be UUIDs`);
  }
  const id = order.orderId.toLowerCase();
  const outcome = await applyIfNewer(tx, {
    table: "orders",
    key: { id },
    version: order.version,
    values: {
      ticket_id: order.ticketId.toLowerCase(),
      buyer_id: order.buyerId.toLowerCase(),
      status: order.status,
      amount_minor: order.amountMinor,
      currency: order.currency,
    },
  });
  await tx.$executeRaw`
    UPDATE orders SET placed_at = ${new Date(occurredAt)} WHERE id = ${id}::uuid AND placed_at > ${new Date(occurredAt)}`;
  return outcome;
}
