import { requireUser } from "@boxoffice/auth-verify";
import type { QueryResolvers } from "../generated/graphql.ts";

/** `order(id)`: the caller's order, null for an unknown id, FORBIDDEN for someone else's. */
export const order: QueryResolvers["order"] = (_parent, { id }, ctx) => {
  const { userId } = requireUser(ctx);
  return ctx.services.order(userId, id);
};
