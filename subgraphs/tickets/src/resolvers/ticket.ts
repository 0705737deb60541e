import { tokenOf } from "@boxoffice/service-kit";
import type { TicketResolvers } from "../generated/graphql.ts";

/**
 * `Ticket` entity. The reference resolver serves `_entities` for `@key(fields: "id")` through the
 * request's DataLoader, so N references cost one SQL query; unknown or malformed ids resolve to null,
 * as Federation expects for entities that do not exist.
 */
export const Ticket: TicketResolvers = {
  __resolveReference: (reference, ctx) => ctx.loaders.ticket.load(reference.id),
  // A reference to the accounts subgraph's User: only the key, resolved by the gateway.
  seller: (ticket) => ({ __typename: "User", id: ticket.sellerId }),
  // Every version of a ticket is one event (`ticket.created` is version 1), so the version names the write.
  consistencyToken: (ticket) => tokenOf("ticket", ticket.id, ticket.version),
};
