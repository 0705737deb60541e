import { awaitConsistency } from "@boxoffice/service-kit";
import type { QueryResolvers } from "../generated/graphql.ts";

/**
 * `ticket(id, waitFor)`: the ticket, or null for an unknown id; BAD_USER_INPUT for a malformed one.
 * With `waitFor`, first waits until the order-status replica reflects that write (awaitConsistency).
 */
export const ticket: QueryResolvers["ticket"] = async (_parent, { id, waitFor }, ctx) => {
  await awaitConsistency(ctx.consistency, waitFor);
  return ctx.services.ticket(id);
};
