/**
 * What the orders subgraph publishes: `order.created` (version 1, PENDING), `order.cancelled`
 * (CANCELLED) and `order.completed` (COMPLETED), each carrying the order's full state as the shared
 * contract defines it (packages/events/src/contracts.ts: orderId, ticketId, buyerId, status,
 * amountMinor, currency, expiresAt, version), written to the outbox in the transaction that changes
 * the order (transactional outbox). The tickets subgraph follows them to reserve, release and sell.
 */
import type { BoxofficeEventDefinition, Publisher } from "@boxoffice/events";
import type { OrdersTx } from "../db.ts";
import type { Order } from "../generated/prisma/client.ts";

/** The `producer` written to every envelope this subgraph publishes. */
export const PRODUCER = "orders";

/**
 * Writes the event for `order`'s current version and status to the outbox through `tx`:
 * PENDING → `order.created`, CANCELLED → `order.cancelled`, COMPLETED → `order.completed`.
 * @throws InvalidEventError when the state violates the event contract (a bug), or the driver's
 *   unique violation when this version of the order was already published.
 */
export async function publishOrderState(
  tx: OrdersTx,
  publisher: Publisher<BoxofficeEventDefinition>,
  order: Order,
): Promise<void> {
  const data = {
    orderId: order.id,
    ticketId: order.ticketId,
    buyerId: order.buyerId,
    amountMinor: order.amountMinor,
    currency: order.currency,
    expiresAt: order.expiresAt.toISOString(),
    version: order.version,
  };
  const common = { schemaVersion: 1, aggregateId: order.id, aggregateVersion: order.version } as const;
  switch (order.status) {
    case "PENDING":
      await publisher.publish(tx, { type: "order.created", ...common, data: { ...data, status: "PENDING" } });
      return;
    case "CANCELLED":
      await publisher.publish(tx, {
        type: "order.cancelled",
        ...common,
        data: { ...data, status: "CANCELLED" },
      });
      return;
    case "COMPLETED":
      await publisher.publish(tx, {
        type: "order.completed",
        ...common,
        data: { ...data, status: "COMPLETED" },
      });
      return;
  }
}
