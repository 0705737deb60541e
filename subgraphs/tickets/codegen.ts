import { subgraphCodegen } from "@boxoffice/service-kit/codegen";

// Resolver types from src/schema.graphql (graphql-codegen; the shared settings in service-kit).
export default subgraphCodegen({
  context: "TicketsContext",
  mappers: { Ticket: "./prisma/client.ts#Ticket as TicketModel" },
  scalars: { ConsistencyToken: "string" },
});
