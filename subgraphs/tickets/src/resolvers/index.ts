import type { Resolvers } from "../generated/graphql.ts";
import { createTicket } from "./mutation-create-ticket.ts";
import { updateTicket } from "./mutation-update-ticket.ts";
import { ticket } from "./query-ticket.ts";
import { tickets } from "./query-tickets.ts";
import { Ticket } from "./ticket.ts";

export const resolvers: Resolvers = {
  Query: { ticket, tickets },
  Mutation: { createTicket, updateTicket },
  Ticket,
};
