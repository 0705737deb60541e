import type { MutationResolvers } from "../generated/graphql.ts";

/** `signOut`: revokes the current session (publishing `session.revoked`) and clears the cookie. */
export const signOut: MutationResolvers["signOut"] = async (_parent, _args, ctx) => {
  ctx.res.appendHeader("Set-Cookie", ctx.services.cookies.clear());
  if (ctx.auth.kind !== "user") return false;
  const { sessionId, userId } = ctx.auth.principal;
  return ctx.services.signOut(sessionId, userId);
};
