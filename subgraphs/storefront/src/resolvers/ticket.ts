import type { TicketResolvers } from "../generated/graphql.ts";

/**
 * `Ticket` entity (owned by tickets): the storefront contributes `availability`. The reference
 * resolver returns the key only; `availability` is batched per request by a DataLoader (N tickets,
 * one SQL query) and is null for a ticket whose events have not arrived.
 */
export const Ticket: TicketResolvers = {
  __resolveReference: (reference) => ({ id: reference.id }),
  availability: (ticket, _args, ctx) => ctx.loaders.availability.load(ticket.id),
};
