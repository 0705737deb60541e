import type { UserResolvers } from "../generated/graphql.ts";

/**
 * `User` entity. The reference resolver serves `_entities` for `@key(fields: "id")` through the
 * request's DataLoader, so a list of N references costs one SQL query. Unknown or malformed ids
 * resolve to null, as Federation expects for entities that do not exist.
 */
export const User: UserResolvers = {
  __resolveReference: (reference, ctx) => ctx.loaders.user.load(reference.id),
  createdAt: (user) => user.createdAt,
  // An e-mail address is personal data: only its owner sees it (OWASP API3:2023, excessive data exposure).
  email: (user, _args, ctx) => (ctx.viewer.userId === user.id ? user.email : null),
};
