/**
 * The graphql-codegen configuration every subgraph uses, written once: resolver types for
 * `src/schema.graphql` into `src/generated/graphql.ts` (plugins `typescript` and
 * `typescript-resolvers` with Federation's reference resolvers), resolvers typed against the
 * subgraph's context and, through `mappers`, against the rows its resolvers return.
 *
 * A subgraph's `codegen.ts`: `export default subgraphCodegen({ context: "TicketsContext", mappers:
 * { Ticket: "./prisma/client.ts#Ticket as TicketModel" }, scalars: { ConsistencyToken: "string" } })`.
 * Paths in `mappers` are relative to `src/generated/` (graphql-codegen's rule); the context type is
 * read from `src/context.ts`.
 *
 * Returned as a plain object (graphql-codegen's `CodegenConfig` shape) so that service-kit does not
 * depend on the codegen CLI.
 */
export function subgraphCodegen(options: {
  /** The exported context type's name in `src/context.ts`, e.g. `"TicketsContext"`. */
  context: string;
  /** GraphQL type → `path#Export [as Alias]` of the model its resolvers receive. */
  mappers?: Record<string, string>;
  /** Custom scalar → TypeScript type, e.g. `{ DateTime: "Date" }`. */
  scalars?: Record<string, string>;
}) {
  return {
    schema: "src/schema.graphql",
    generates: {
      "src/generated/graphql.ts": {
        plugins: ["typescript", "typescript-resolvers"],
        config: {
          federation: true,
          useIndexSignature: true,
          contextType: `../context.ts#${options.context}`,
          mappers: options.mappers ?? {},
          scalars: options.scalars ?? {},
          useTypeImports: true,
          enumsAsTypes: true,
          avoidOptionals: { field: true, inputValue: false },
        },
      },
    },
  };
}
