import type { ConsistencyToken } from "@boxoffice/events";
import { tokenOfWrites } from "@boxoffice/service-kit";
import { PAYMENT_EVENT_VERSION, PAYMENT_REFUNDED_VERSION } from "../events/payment-events.ts";
import type { PaymentResolvers } from "../generated/graphql.ts";

/**
 * `Payment` entity. The reference resolver serves `_entities` for `@key(fields: "id")` through the
 * request's DataLoader (N references cost one SQL query) and, like `payment(id)`, shows a payment to
 * its buyer only: unknown, malformed, or someone else's ids resolve to null (Federation's answer for
 * an entity that does not exist), also for anonymous callers.
 */
export const Payment: PaymentResolvers = {
  __resolveReference: async (reference, ctx) => {
    const payment = await ctx.loaders.payment.load(reference.id);
    const viewer = ctx.auth.kind === "user" ? ctx.auth.principal.userId : null;
    return payment && payment.buyerId === viewer ? payment : null;
  },
  // References to entities other subgraphs own: only the key, resolved by the gateway.
  order: (payment) => ({ __typename: "Order", id: payment.orderId }),
  buyer: (payment) => ({ __typename: "User", id: payment.buyerId }),
  createdAt: (payment) => payment.createdAt.toISOString(),
  /**
   * The payment's newest event (its outcome is version 1, `payment.refunded` version 2; a PENDING
   * payment has published nothing: null) and, for a SUCCEEDED one, the order version that completes
   * it. The orders subgraph completes a PENDING order on `payment.succeeded` with version + 1 (every
   * order change is one version, contracts.ts), so a reader waiting for that version sees the order
   * COMPLETED — or CANCELLED, when it lapsed first and the payment is refunded.
   */
  consistencyToken: async (payment, _args, ctx) => {
    if (payment.status === "PENDING") return null;
    const version = payment.status === "REFUNDED" ? PAYMENT_REFUNDED_VERSION : PAYMENT_EVENT_VERSION;
    const writes: ConsistencyToken[] = [{ aggregateType: "payment", aggregateId: payment.id, version }];
    if (payment.status === "SUCCEEDED") {
      const order = await ctx.services.prisma.orderReplica.findUnique({
        where: { orderId: payment.orderId },
        select: { status: true, version: true },
      });
      if (order) {
        const completedVersion = order.status === "PENDING" ? order.version + 1 : order.version;
        writes.push({ aggregateType: "order", aggregateId: payment.orderId, version: completedVersion });
      }
    }
    return tokenOfWrites(writes);
  },
};
