import { subgraphCodegen } from "@boxoffice/service-kit/codegen";

// Resolver types from src/schema.graphql (graphql-codegen; the shared settings in service-kit).
export default subgraphCodegen({
  context: "OrdersContext",
  mappers: { Order: "./prisma/client.ts#Order as OrderModel" },
  scalars: { ConsistencyToken: "string" },
});
