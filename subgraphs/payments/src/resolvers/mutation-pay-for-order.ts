import { requireUser } from "@boxoffice/auth-verify";
import type { MutationResolvers } from "../generated/graphql.ts";

/**
 * `payForOrder(orderId, paymentToken, idempotencyKey)`: the signed-in buyer pays their open order;
 * publishes `payment.succeeded` or `payment.failed`. Errors: see `PaymentsServices.payForOrder`.
 */
export const payForOrder: MutationResolvers["payForOrder"] = (_parent, args, ctx) => {
  const { userId } = requireUser(ctx);
  return ctx.services.payForOrder(userId, args);
};
