import type { CodegenConfig } from "@graphql-codegen/cli";

// Resolver types from src/schema.graphql (graphql-codegen, typescript-resolvers with Federation).
const config: CodegenConfig = {
  schema: "src/schema.graphql",
  generates: {
    "src/generated/graphql.ts": {
      plugins: ["typescript", "typescript-resolvers"],
      config: {
        federation: true,
        useIndexSignature: true,
        contextType: "../context.ts#OrdersContext",
        mappers: { Order: "./prisma/client.ts#Order as OrderModel" },
        scalars: { ConsistencyToken: "string" },
        useTypeImports: true,
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false },
      },
    },
  },
};
export default config;
