import type { QueryResolvers } from "../generated/graphql.ts";

/**
 * `storefrontFreshness`: how far the read model's consumer is behind (events and ms), from the
 * consumer's own status (no database read).
 */
export const storefrontFreshness: QueryResolvers["storefrontFreshness"] = (_parent, _args, ctx) => {
  const { groups, ...totals } = ctx.consistency.freshness();
  return { ...totals, consumers: groups };
};
