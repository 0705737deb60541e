import { requireUser } from "@boxoffice/auth-verify";
import type { QueryResolvers } from "../generated/graphql.ts";

/** `myOrders(first, after)`: one page of the caller's orders, newest first. */
export const myOrders: QueryResolvers["myOrders"] = (_parent, { first, after }, ctx) => {
  const { userId } = requireUser(ctx);
  return ctx.services.myOrders(userId, first, after);
};
