import type { QueryResolvers } from "../generated/graphql.ts";

/** `me`: the signed-in user, or null for an anonymous request. */
export const me: QueryResolvers["me"] = async (_parent, _args, ctx) => {
  if (ctx.auth.kind !== "user") return null;
  return ctx.loaders.user.load(ctx.auth.principal.userId);
};
