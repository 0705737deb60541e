import { tokenOf } from "@boxoffice/service-kit";
import type { OrderResolvers } from "../generated/graphql.ts";

/**
 * `Order` entity. The reference resolver serves `_entities` for `@key(fields: "id")` through the
 * request's DataLoader (N references, one SQL query). An order is its buyer's only: unknown or
 * malformed ids, anonymous callers and other users all get null — the Federation answer for an entity
 * that does not exist — so `_entities` cannot be used to probe other people's orders.
 */
export const Order: OrderResolvers = {
  __resolveReference: async (reference, ctx) => {
    if (ctx.auth.kind !== "user") return null;
    const order = await ctx.loaders.order.load(reference.id);
    return order && order.buyerId === ctx.auth.principal.userId ? order : null;
  },
  // References to entities of other subgraphs: only the key, resolved by the gateway.
  buyer: (order) => ({ __typename: "User", id: order.buyerId }),
  ticket: (order) => ({ __typename: "Ticket", id: order.ticketId }),
  expiresAt: (order) => order.expiresAt.toISOString(),
  // Every version of an order is one event (`order.created` is version 1), so the version names the write.
  consistencyToken: (order) => tokenOf("order", order.id, order.version),
};
