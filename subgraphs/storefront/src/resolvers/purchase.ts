import type { PurchaseResolvers } from "../generated/graphql.ts";

/** `Purchase`: an order of the buyer's history, with the ticket as the read model knows it. */
export const Purchase: PurchaseResolvers = {
  ticket: (row) => ({ id: row.ticketId }),
  ticketPrice: (row) =>
    row.ticketPriceMinor === null || row.ticketCurrency === null
      ? null
      : { amountMinor: row.ticketPriceMinor, currency: row.ticketCurrency },
  amount: (row) => ({ amountMinor: row.amountMinor, currency: row.currency }),
  placedAt: (row) => row.placedAt.toISOString(),
};
