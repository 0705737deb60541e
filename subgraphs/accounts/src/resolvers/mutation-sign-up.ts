import type { MutationResolvers } from "../generated/graphql.ts";
import { setSessionCookie } from "./session-cookie.ts";

/** `signUp`: creates the account, publishes `user.registered`, signs in. */
export const signUp: MutationResolvers["signUp"] = async (_parent, { input }, ctx) => {
  const { user, issued } = await ctx.services.signUp(input, ctx.clientAddress);
  setSessionCookie(ctx, issued, user.id);
  return { user, token: issued.token, expiresAt: new Date(issued.expiresAt * 1000) };
};
