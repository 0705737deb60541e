import type { SaleResolvers } from "../generated/graphql.ts";

/** `Sale`: a completed order of one of the seller's tickets. */
export const Sale: SaleResolvers = {
  ticket: (row) => ({ id: row.ticketId }),
  amount: (row) => ({ amountMinor: row.amountMinor, currency: row.currency }),
  placedAt: (row) => row.soldAt.toISOString(),
};
