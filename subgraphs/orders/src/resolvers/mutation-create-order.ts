import { requireUser } from "@boxoffice/auth-verify";
import type { MutationResolvers } from "../generated/graphql.ts";

/** `createOrder(ticketId)`: the signed-in user reserves a ticket; publishes `order.created`. */
export const createOrder: MutationResolvers["createOrder"] = (_parent, { ticketId }, ctx) => {
  const { userId } = requireUser(ctx);
  return ctx.services.createOrder(userId, ticketId);
};
