import { subgraphCodegen } from "@boxoffice/service-kit/codegen";

// Resolver types from src/schema.graphql (graphql-codegen; the shared settings in service-kit).
export default subgraphCodegen({
  context: "StorefrontContext",
  mappers: {
    User: "../services.ts#EntityRef as UserRef",
    Ticket: "../services.ts#EntityRef as TicketRef",
    Listing: "../services.ts#ListingRow",
    Purchase: "../services.ts#PurchaseRow",
    Sale: "../services.ts#SaleRow",
    Sales: "../services.ts#SalesSummary",
    ListingConnection: "../services.ts#ListingsPage",
    ListingEdge: "../services.ts#ListingRow as ListingEdgeRow",
  },
  scalars: { ConsistencyToken: "string" },
});
