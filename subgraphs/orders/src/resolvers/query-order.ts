import { requireUser } from "@boxoffice/auth-verify";
import { awaitConsistency } from "@boxoffice/service-kit";
import type { QueryResolvers } from "../generated/graphql.ts";

/**
 * `order(id, waitFor)`: the caller's order, null for an unknown id, FORBIDDEN for someone else's.
 * With `waitFor`, first waits until the ticket and payment replicas reflect that write (a payment's
 * token: the order it completed is COMPLETED here).
 */
export const order: QueryResolvers["order"] = async (_parent, { id, waitFor }, ctx) => {
  const { userId } = requireUser(ctx);
  await awaitConsistency(ctx.consistency, waitFor);
  return ctx.services.order(userId, id);
};
