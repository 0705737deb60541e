import { subgraphCodegen } from "@boxoffice/service-kit/codegen";

// Resolver types from src/schema.graphql (graphql-codegen; the shared settings in service-kit).
export default subgraphCodegen({
  context: "PaymentsContext",
  mappers: { Payment: "./prisma/client.ts#Payment as PaymentModel" },
  scalars: { ConsistencyToken: "string" },
});
