import type { QueryResolvers } from "../generated/graphql.ts";

/** `ticket(id)`: the ticket, or null for an unknown id; BAD_USER_INPUT for a malformed one. */
export const ticket: QueryResolvers["ticket"] = (_parent, { id }, ctx) => ctx.services.ticket(id);
