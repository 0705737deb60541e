import type { QueryResolvers } from "../generated/graphql.ts";

/**
 * `tickets(first, after)`: one page, newest first. Sellers are returned as `User` references only
 * (`{ id }`), so the gateway resolves all of a page's sellers in one `_entities` fetch to accounts.
 */
export const tickets: QueryResolvers["tickets"] = (_parent, { first, after }, ctx) =>
  ctx.services.tickets(first, after);
