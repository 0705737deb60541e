import { requireUser } from "@boxoffice/auth-verify";
import type { MutationResolvers } from "../generated/graphql.ts";

/** `updateTicket`: the seller changes an AVAILABLE ticket; publishes `ticket.updated`. */
export const updateTicket: MutationResolvers["updateTicket"] = (_parent, { id, input }, ctx) => {
  const { userId } = requireUser(ctx);
  return ctx.services.updateTicket(userId, id, input);
};
