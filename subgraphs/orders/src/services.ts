/**
 * The orders subgraph's domain operations. Resolvers call these; they validate, check ownership,
 * and change an order and write its event in ONE transaction (transactional outbox). Ticket facts
 * (price, seller, sold) come from the local ticket replica: the tickets subgraph is never called.
 */
import type { Verifier } from "@boxoffice/auth-verify";
import { forbiddenError } from "@boxoffice/auth-verify";
import type { BoxofficeEventDefinition, Publisher } from "@boxoffice/events";
import { conflict, isUuid, notFound, type Logger } from "@boxoffice/service-kit";
import DataLoader from "dataloader";
import { v7 as uuidv7 } from "uuid";
import type { PrismaClient } from "./db.ts";
import { publishOrderState } from "./events/order-events.ts";
import { Prisma, type Order } from "./generated/prisma/client.ts";
import { parseId, parsePage } from "./order-input.ts";

/** Everything a resolver of the orders subgraph needs, built once per process. */
export interface OrdersServices {
  prisma: PrismaClient;
  verifier: Verifier;
  logger: Logger;
  /** How long a new order reserves its ticket, in seconds (ORDER_EXPIRATION_SECONDS). */
  expirationSeconds: number;
  /**
   * Creates a PENDING order (version 1) of `ticketId` for `buyerId`, priced from the ticket replica,
   * expiring `expirationSeconds` from now, and writes `order.created`.
   * @throws GraphQLError BAD_USER_INPUT (field `ticketId`) for a malformed id; NOT_FOUND when the
   *   replica has no such ticket; FORBIDDEN when the buyer is the seller; CONFLICT with
   *   `extensions.reason` TICKET_SOLD (sold, per replica or a COMPLETED order) or TICKET_RESERVED (a
   *   PENDING order holds it — also what the loser of a concurrent race gets, from the partial unique
   *   index `orders_ticket_pending_key`). Nothing is written on any error.
   */
  createOrder(buyerId: string, ticketId: string): Promise<Order>;
  /**
   * Cancels `userId`'s PENDING order `id` (status CANCELLED, reason BUYER, version + 1) and writes
   * `order.cancelled`.
   * @throws GraphQLError BAD_USER_INPUT (malformed id), NOT_FOUND (no such order), FORBIDDEN (not the
   *   buyer), CONFLICT (`extensions.reason`: ORDER_CANCELLED or ORDER_COMPLETED); nothing is written.
   */
  cancelOrder(userId: string, id: string): Promise<Order>;
  /**
   * The order `id` when `userId` is its buyer, null when no order has this id.
   * @throws GraphQLError BAD_USER_INPUT for a malformed id, FORBIDDEN when it is someone else's.
   */
  order(userId: string, id: string): Promise<Order | null>;
  /**
   * A page of `buyerId`'s orders, newest first, after the order `after` (keyset on the time-ordered id).
   * @throws GraphQLError BAD_USER_INPUT for `first` outside 1–100 or a malformed `after`.
   */
  myOrders(
    buyerId: string,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<Order[]>;
  /** A DataLoader per request: batches `Order` lookups by id into one query; unknown/malformed ids → null. */
  orderLoader(): DataLoader<string, Order | null>;
}

const reserved = () => conflict("This ticket is reserved by another order.", "TICKET_RESERVED");

/** Is `error` PostgreSQL's unique violation (SQLSTATE 23505) as Prisma reports it (P2002)? */
function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

/** Builds the orders services around a Prisma client, a verifier and the event publisher. */
export function createOrdersServices(
  prisma: PrismaClient,
  verifier: Verifier,
  publisher: Publisher<BoxofficeEventDefinition>,
  logger: Logger,
  expirationSeconds: number,
): OrdersServices {
  return {
    prisma,
    verifier,
    logger,
    expirationSeconds,

    async createOrder(buyerId, rawTicketId) {
      const ticketId = parseId(rawTicketId, "ticketId", "ticket");
      try {
        return await prisma.$transaction(async (tx) => {
          const ticket = await tx.ticketReplica.findUnique({ where: { id: ticketId } });
          if (!ticket) throw notFound("No ticket with this id.");
          // Ownership from the replicated ticket, never from an argument (OWASP API1:2023).
          if (ticket.sellerId === buyerId) throw forbiddenError("You cannot buy your own ticket.");
          // The replica lags behind this subgraph's own orders, so both are asked: a COMPLETED order
          // here is authoritative at once, a SOLD replica covers sales this subgraph cannot see.
          const holder = await tx.order.findFirst({
            where: { ticketId, status: { in: ["PENDING", "COMPLETED"] } },
            select: { status: true },
          });
          if (ticket.status === "SOLD" || holder?.status === "COMPLETED") {
            throw conflict("This ticket is already sold.", "TICKET_SOLD");
          }
          if (holder) throw reserved();
          // A RESERVED replica without a PENDING order here is a release not replicated yet: this
          // subgraph's orders table, not the replica, decides who holds a ticket.
          const order = await tx.order.create({
            data: {
              // UUIDv7: time-ordered, so the keyset order of `myOrders` is creation order (RFC 9562 §5.7).
              id: uuidv7(),
              ticketId,
              buyerId,
              amountMinor: ticket.priceMinor,
              currency: ticket.currency,
              expiresAt: new Date(Date.now() + expirationSeconds * 1000),
            },
          });
          await publishOrderState(tx, publisher, order);
          return order;
        });
      } catch (error) {
        // The partial unique index refused a second PENDING order: a concurrent createOrder won.
        if (isUniqueViolation(error)) throw reserved();
        throw error;
      }
    },

    async cancelOrder(userId, rawId) {
      const id = parseId(rawId, "id", "order");
      return prisma.$transaction(async (tx) => {
        // Row lock: the expiration worker (SKIP LOCKED) and payment events take turns with this.
        await tx.$queryRaw`SELECT 1 FROM orders WHERE id = ${id}::uuid FOR UPDATE`;
        const order = await tx.order.findUnique({ where: { id } });
        if (!order) throw notFound("No order with this id.");
        if (order.buyerId !== userId) throw forbiddenError("Only the buyer can cancel this order.");
        if (order.status !== "PENDING") {
          throw conflict(
            order.status === "CANCELLED"
              ? "This order is already cancelled."
              : "This order is paid and can no longer be cancelled.",
            order.status === "CANCELLED" ? "ORDER_CANCELLED" : "ORDER_COMPLETED",
          );
        }
        const cancelled = await tx.order.update({
          where: { id },
          data: {
            status: "CANCELLED",
            cancellationReason: "BUYER",
            version: { increment: 1 },
            updatedAt: new Date(),
          },
        });
        await publishOrderState(tx, publisher, cancelled);
        return cancelled;
      });
    },

    async order(userId, rawId) {
      const id = parseId(rawId, "id", "order");
      const order = await prisma.order.findUnique({ where: { id } });
      if (order && order.buyerId !== userId) throw forbiddenError("Only the buyer can see this order.");
      return order;
    },

    async myOrders(buyerId, rawFirst, rawAfter) {
      const { first, after } = parsePage(rawFirst, rawAfter);
      return prisma.order.findMany({
        where: { buyerId, ...(after ? { id: { lt: after } } : {}) },
        orderBy: { id: "desc" },
        take: first,
      });
    },

    orderLoader() {
      return new DataLoader<string, Order | null>(async (ids) => {
        const valid = ids.filter(isUuid).map((id) => id.toLowerCase());
        const orders = valid.length ? await prisma.order.findMany({ where: { id: { in: valid } } }) : [];
        const byId = new Map(orders.map((o) => [o.id, o]));
        return ids.map((id) => (isUuid(id) ? (byId.get(id.toLowerCase()) ?? null) : null));
      });
    },
  };
}
