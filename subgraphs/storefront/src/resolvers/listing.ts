import type {
  ListingConnectionResolvers,
  ListingEdgeResolvers,
  ListingResolvers,
} from "../generated/graphql.ts";

/** `ListingConnection`: the page as the service returns it, each row an edge. */
export const ListingConnection: ListingConnectionResolvers = {
  edges: (page) => page.items,
};

/** `ListingEdge`: a listing row and its cursor. */
export const ListingEdge: ListingEdgeResolvers = {
  node: (row) => row,
};

/** `Listing`: a row of the read model; the seller and the ticket are entity references. */
export const Listing: ListingResolvers = {
  ticket: (row) => ({ id: row.id }),
  seller: (row) => ({ id: row.sellerId }),
};
