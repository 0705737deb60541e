import { requireUser } from "@boxoffice/auth-verify";
import type { MutationResolvers } from "../generated/graphql.ts";

/** `createTicket`: lists a ticket with the signed-in user as seller; publishes `ticket.created`. */
export const createTicket: MutationResolvers["createTicket"] = (_parent, { input }, ctx) => {
  const { userId } = requireUser(ctx);
  return ctx.services.createTicket(userId, input);
};
