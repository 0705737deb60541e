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
};
