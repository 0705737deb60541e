import { awaitConsistency } from "@boxoffice/service-kit";
import type { QueryResolvers } from "../generated/graphql.ts";

/**
 * `listings(filter, first, after, waitFor)`: one page of listings, open to everyone. With `waitFor`,
 * first waits until the read model reflects that write (e.g. a ticket just listed, an order just
 * placed).
 */
export const listings: QueryResolvers["listings"] = async (_parent, { waitFor, ...args }, ctx) => {
  await awaitConsistency(ctx.consistency, waitFor);
  return ctx.services.listings(args);
};
