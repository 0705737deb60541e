import type { Resolvers } from "../generated/graphql.ts";
import { Listing, ListingConnection, ListingEdge } from "./listing.ts";
import { Purchase } from "./purchase.ts";
import { listings } from "./query-listings.ts";
import { storefrontFreshness } from "./query-storefront-freshness.ts";
import { Sale } from "./sale.ts";
import { Sales } from "./sales.ts";
import { Ticket } from "./ticket.ts";
import { User } from "./user.ts";

export const resolvers: Resolvers = {
  Query: { listings, storefrontFreshness },
  Listing,
  ListingConnection,
  ListingEdge,
  Purchase,
  Sale,
  Sales,
  Ticket,
  User,
};
