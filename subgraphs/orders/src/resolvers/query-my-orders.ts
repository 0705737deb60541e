import { requireUser } from "@boxoffice/auth-verify";
import { awaitConsistency } from "@boxoffice/service-kit";
import type { QueryResolvers } from "../generated/graphql.ts";

/**
 * `myOrders(first, after, waitFor)`: one page of the caller's orders, newest first. With `waitFor`,
 * first waits until the ticket and payment replicas reflect that write.
 */
export const myOrders: QueryResolvers["myOrders"] = async (_parent, { first, after, waitFor }, ctx) => {
  const { userId } = requireUser(ctx);
  await awaitConsistency(ctx.consistency, waitFor);
  return ctx.services.myOrders(userId, first, after);
};
