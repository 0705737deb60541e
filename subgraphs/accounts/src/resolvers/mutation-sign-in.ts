import type { MutationResolvers } from "../generated/graphql.ts";
import { setSessionCookie } from "./session-cookie.ts";

/** `signIn`: verifies the password (argon2id) and starts a session. */
export const signIn: MutationResolvers["signIn"] = async (_parent, { input }, ctx) => {
  const { user, issued } = await ctx.services.signIn(input, ctx.clientAddress);
  setSessionCookie(ctx, issued, user.id);
  return { user, token: issued.token, expiresAt: new Date(issued.expiresAt * 1000) };
};
