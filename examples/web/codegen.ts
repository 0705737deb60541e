import type { CodegenConfig } from "@graphql-codegen/cli";

// Typed operations (client preset: `graphql()` returns a TypedDocumentNode) checked against the
// composed supergraph, which the gateway's `generate` task writes first (turbo.json).
const config: CodegenConfig = {
  schema: "../../gateway/supergraph.graphql",
  documents: ["src/**/*.ts", "src/**/*.tsx", "!src/generated/**"],
  ignoreNoDocuments: false,
  generates: {
    "src/generated/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        avoidOptionals: { field: true },
        // Opaque: stored and sent back as is (src/consistency.ts).
        scalars: { ConsistencyToken: "string" },
      },
    },
  },
};
export default config;
