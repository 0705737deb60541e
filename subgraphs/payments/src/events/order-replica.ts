/**
 * The shared core of the three order-event handlers: a version-aware replica of every order (the
 * read model `payForOrder` checks: buyer, amount, currency, status, expiry).
 *
 * Events of one order arrive in order (one partition per order id), but a replayed dead letter or a
 * re-published version can arrive late or twice. Order events carry the order's full state, so
 * keeping each order's newest version only (`applyIfNewer`, one atomic upsert) makes every delivery
 * order converge; older or equal versions are acknowledged no-ops.
 */
import { applyIfNewer, NonRetryableError } from "@boxoffice/events";
import type { PaymentsTx } from "../db.ts";
import type { OrderStatus } from "../generated/prisma/client.ts";
import { isUuid } from "@boxoffice/service-kit";

/** An order event's data (order.created / order.cancelled / order.completed, schema version 1). */
export interface OrderState {
  orderId: string;
  ticketId: string;
  buyerId: string;
  status: OrderStatus;
  /** Minor units of `currency`. */
  amountMinor: number;
  currency: string;
  /** ISO 8601 with offset. */
  expiresAt: string;
  /** The order's aggregate version (equals the envelope's `aggregateVersion`). */
  version: number;
}

/** The largest amount the replica's INTEGER column holds. */
const AMOUNT_MAX = 2_147_483_647;

/**
 * Applies one order event inside the consumer's transaction `tx`.
 *
 * @returns `applied` when the replica now holds this version, `stale` when it already held this or a
 *   newer one (duplicate or out-of-order delivery: nothing changed).
 * @throws NonRetryableError (→ dead-letter topic) when an id is not a UUID or the amount does not fit
 *   the replica: retrying cannot help.
 */
export async function applyOrderState(tx: PaymentsTx, order: OrderState): Promise<"applied" | "stale"> {
  if (!isUuid(order.orderId) || !isUuid(order.ticketId) || !isUuid(order.buyerId)) {
    throw new NonRetryableError(`order ${order.orderId}: orderId, ticketId and buyerId must be UUIDs`);
  }
  if (order.amountMinor > AMOUNT_MAX) {
    throw new NonRetryableError(`order ${order.orderId}: amountMinor ${order.amountMinor} is too large`);
  }
  return applyIfNewer(tx, {
    table: "order_replica",
    key: { order_id: order.orderId.toLowerCase() },
    version: order.version,
    values: {
      buyer_id: order.buyerId.toLowerCase(),
      ticket_id: order.ticketId.toLowerCase(),
      status: order.status,
      amount_minor: order.amountMinor,
      currency: order.currency,
      expires_at: order.expiresAt,
      updated_at: new Date().toISOString(),
    },
  });
}
