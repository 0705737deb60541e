import { requireUser } from "@boxoffice/auth-verify";
import type { QueryResolvers } from "../generated/graphql.ts";

/**
 * `payment(id)`: the signed-in user's payment, or null (unknown, or another buyer's: the two are
 * indistinguishable, so ids cannot be probed). UNAUTHENTICATED when signed out; BAD_USER_INPUT for a
 * malformed id.
 */
export const payment: QueryResolvers["payment"] = (_parent, { id }, ctx) => {
  const { userId } = requireUser(ctx);
  return ctx.services.payment(userId, id);
};
