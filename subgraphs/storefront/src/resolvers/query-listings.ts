import type { QueryResolvers } from "../generated/graphql.ts";

/** `listings(filter, first, after)`: one page of listings, open to everyone. */
export const listings: QueryResolvers["listings"] = (_parent, args, ctx) => ctx.services.listings(args);
