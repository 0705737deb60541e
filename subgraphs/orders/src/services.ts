/**
 * The orders subgraph's domain operations. Resolvers call these; they validate, check ownership,
 * and change an order and write its event in ONE transaction (transactional outbox). Ticket facts
 * (price, seller, sold) come from the local ticket replica: the tickets subgraph is never called.
 */
import type { Verifier } from "@boxoffice/auth-verify";
import { forbiddenError } from "@boxoffice/auth-verify";
import {
  awaitReplicated,
  DEFAULT_REPLICA_WAIT_MS,
  type BoxofficeEventDefinition,
  type Publisher,
} from "@boxoffice/events";
import { conflict, isUuid, notFound, notYetReplicated, type Logger } from "@boxoffice/service-kit";
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
  /** The fair-inventory rules createOrder applies (see {@link FairInventory}). */
  fairness: FairInventory;
  /**
   * Creates a PENDING order (version 1) of `ticketId` for `buyerId`, priced from the ticket replica,
   * expiring `expirationSeconds` from now, and writes `order.created`.
   * @throws GraphQLError BAD_USER_INPUT (field `ticketId`) for a malformed id; NOT_FOUND when the
   *   replica has no such ticket (and it is not a recently listed one still on its way: a UUIDv7
   *   younger than 5 minutes is waited for up to `replicaWaitMs`, then SERVICE_UNAVAILABLE with
   *   `retryable: true`, `reason: NOT_YET_REPLICATED`); FORBIDDEN when the buyer is the seller; CONFLICT with
   *   `extensions.reason` TICKET_SOLD (sold, per replica or a COMPLETED order) or TICKET_RESERVED (a
   *   PENDING order holds it — also what the loser of a concurrent race gets, from the partial unique
   *   index `orders_ticket_pending_key`), PENDING_ORDER_LIMIT (the buyer already holds
   *   `fairness.maxPendingPerBuyer` PENDING orders; `extensions.limit`) or REORDER_COOLDOWN (the buyer's
   *   own order of this ticket was cancelled less than `fairness.reorderCooldownSeconds` ago;
   *   `extensions.retryAfter` in seconds). Nothing is written on any error.
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

/**
 * Fair inventory: one buyer must not be able to hold every ticket. Reservations are free, so without
 * a bound one account reserves the whole catalogue (OWASP API6:2023, "unrestricted access to
 * sensitive business flows"), and cancel-then-reorder would renew a hold forever.
 */
export interface FairInventory {
  /** Most PENDING orders one buyer may hold at once (ORDERS_MAX_PENDING_PER_BUYER, default 3). */
  maxPendingPerBuyer: number;
  /**
   * Seconds after a buyer's order of a ticket is cancelled (by the buyer or by expiry) before that
   * buyer may order the same ticket again (ORDERS_REORDER_COOLDOWN_SECONDS, default 300); other
   * buyers may order it at once.
   */
  reorderCooldownSeconds: number;
}

export const DEFAULT_FAIRNESS: FairInventory = { maxPendingPerBuyer: 3, reorderCooldownSeconds: 300 };

const reserved = () => conflict("This ticket is reserved by another order.", "TICKET_RESERVED");

/** Is `error` PostgreSQL's unique violation (SQLSTATE 23505) as Prisma reports it (P2002)? */
function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/**
 * Applies {@link FairInventory} inside createOrder's transaction. A transaction-scoped advisory lock
 * per buyer serialises one buyer's concurrent createOrder calls, so two at once cannot both see
 * `max − 1` PENDING orders and both insert (the count is read after the lock, under READ COMMITTED,
 * so it includes what the other committed). Other buyers are not blocked.
 * @throws GraphQLError CONFLICT PENDING_ORDER_LIMIT or REORDER_COOLDOWN.
 */
async function checkFairness(
  tx: Tx,
  buyerId: string,
  ticketId: string,
  fairness: FairInventory,
): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`orders.buyer:${buyerId}`}, 0))`;
  const pending = await tx.order.count({ where: { buyerId, status: "PENDING" } });
  if (pending >= fairness.maxPendingPerBuyer) {
    throw conflict(
      `You already hold ${fairness.maxPendingPerBuyer} unpaid orders: pay or cancel one first.`,
      "PENDING_ORDER_LIMIT",
      { limit: fairness.maxPendingPerBuyer },
    );
  }
  const since = new Date(Date.now() - fairness.reorderCooldownSeconds * 1000);
  const recent = await tx.order.findFirst({
    where: { buyerId, ticketId, status: "CANCELLED", updatedAt: { gt: since } },
    orderBy: { updatedAt: "desc" },
    select: { updatedAt: true },
  });
  if (recent) {
    const retryAfter = Math.max(
      1,
      Math.ceil((recent.updatedAt.getTime() + fairness.reorderCooldownSeconds * 1000 - Date.now()) / 1000),
    );
    throw conflict(
      "Your order of this ticket was cancelled moments ago; others may order it first.",
      "REORDER_COOLDOWN",
      { retryAfter },
    );
  }
}

/** Builds the orders services around a Prisma client, a verifier and the event publisher. */
export function createOrdersServices(
  prisma: PrismaClient,
  verifier: Verifier,
  publisher: Publisher<BoxofficeEventDefinition>,
  logger: Logger,
  expirationSeconds: number,
  fairness: FairInventory = DEFAULT_FAIRNESS,
  /** How long `createOrder` waits for a recently listed ticket to reach the replica, ms. */
  replicaWaitMs = DEFAULT_REPLICA_WAIT_MS,
): OrdersServices {
  return {
    prisma,
    verifier,
    logger,
    expirationSeconds,
    fairness,

    async createOrder(buyerId, rawTicketId) {
      const ticketId = parseId(rawTicketId, "ticketId", "ticket");
      // Read-your-writes: a ticket listed a moment ago may not be in the replica yet (the event
      // path lags); wait for it, bounded, and say "not yet" (retryable) rather than NOT_FOUND.
      const arrival = await awaitReplicated(
        ticketId,
        async () => (await prisma.ticketReplica.count({ where: { id: ticketId } })) > 0,
        { timeoutMs: replicaWaitMs },
      );
      if (arrival === "not-yet") {
        throw notYetReplicated(
          "This ticket was listed moments ago and is not known here yet; retry shortly.",
        );
      }
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
          await checkFairness(tx, buyerId, ticketId, fairness);
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
