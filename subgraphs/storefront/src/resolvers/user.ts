import { awaitConsistency } from "@boxoffice/service-kit";
import type { StorefrontContext } from "../context.ts";
import type { UserResolvers } from "../generated/graphql.ts";
import { parseHistoryFirst } from "../listing-input.ts";

/** Is the caller the user `id`? (ids compared case-insensitively: both are UUIDs). */
function isSelf(ctx: StorefrontContext, id: string): boolean {
  return ctx.auth.kind === "user" && ctx.auth.principal.userId.toLowerCase() === id.toLowerCase();
}

/**
 * `User` entity (owned by accounts): the storefront contributes `orders` and `sales`. They are the
 * user's own business: for anyone else (another user, an anonymous caller) they are null rather than
 * FORBIDDEN, so a list of tickets with their sellers' sales asked by one user does not fail as a whole
 * — and null reveals nothing (not even whether the user bought or sold anything). A signed-out
 * (revoked) session is refused with UNAUTHENTICATED when the request context is built.
 */
export const User: UserResolvers = {
  __resolveReference: (reference) => ({ id: reference.id }),
  // With `waitFor`, both first wait until the read model reflects that write (awaitConsistency).
  orders: async (user, { first, waitFor }, ctx) => {
    const size = parseHistoryFirst(first);
    if (!isSelf(ctx, user.id)) return null;
    await awaitConsistency(ctx.consistency, waitFor);
    return ctx.services.purchasesOf(user.id.toLowerCase(), size);
  },
  sales: async (user, { waitFor }, ctx) => {
    if (!isSelf(ctx, user.id)) return null;
    await awaitConsistency(ctx.consistency, waitFor);
    return ctx.services.salesOf(user.id.toLowerCase());
  },
};
