import type { CodegenConfig } from "@graphql-codegen/cli";

// Resolver types from src/schema.graphql (graphql-codegen, typescript-resolvers with Federation).
const config: CodegenConfig = {
  // Not yet `src/schema.graphql`: that name opts a subgraph into the supergraph (see README).
  schema: "src/schema.graphql",
  generates: {
    "src/generated/graphql.ts": {
      plugins: ["typescript", "typescript-resolvers"],
      config: {
        federation: true,
        useIndexSignature: true,
        contextType: "../context.ts#StorefrontContext",
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
        useTypeImports: true,
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false },
      },
    },
  },
};
export default config;
