import { requireUser } from "@boxoffice/auth-verify";
import type { MutationResolvers } from "../generated/graphql.ts";

/** `cancelOrder(id)`: the buyer cancels a PENDING order; publishes `order.cancelled`. */
export const cancelOrder: MutationResolvers["cancelOrder"] = (_parent, { id }, ctx) => {
  const { userId } = requireUser(ctx);
  return ctx.services.cancelOrder(userId, id);
};
