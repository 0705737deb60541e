import { subgraphCodegen } from "@boxoffice/service-kit/codegen";

// Resolver types from src/schema.graphql (graphql-codegen; the shared settings in service-kit).
export default subgraphCodegen({
  context: "AccountsContext",
  mappers: { User: "./prisma/client.ts#User as UserModel" },
  scalars: { DateTime: "Date" },
});
