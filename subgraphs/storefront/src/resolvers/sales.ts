import type { SalesResolvers } from "../generated/graphql.ts";
import { parseHistoryFirst } from "../listing-input.ts";

/** `Sales`: the seller's newest sold tickets (`items(first)`, 1–100) and revenue over every sale. */
export const Sales: SalesResolvers = {
  items: (summary, { first }) => summary.items.slice(0, parseHistoryFirst(first)),
};
