import { awaitConsistency } from "@boxoffice/service-kit";
import type { QueryResolvers } from "../generated/graphql.ts";

/**
 * `tickets(first, after, waitFor)`: one page, newest first. Sellers are returned as `User` references
 * only (`{ id }`), so the gateway resolves all of a page's sellers in one `_entities` fetch to
 * accounts. With `waitFor`, first waits until the order-status replica reflects that write.
 */
export const tickets: QueryResolvers["tickets"] = async (_parent, { first, after, waitFor }, ctx) => {
  await awaitConsistency(ctx.consistency, waitFor);
  return ctx.services.tickets(first, after);
};
