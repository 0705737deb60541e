import type { Resolvers } from "../generated/graphql.ts";
import { DateTime } from "./date-time.ts";
import { signIn } from "./mutation-sign-in.ts";
import { signOut } from "./mutation-sign-out.ts";
import { signUp } from "./mutation-sign-up.ts";
import { me } from "./query-me.ts";
import { User } from "./user.ts";

export const resolvers: Resolvers = {
  DateTime,
  Query: { me },
  Mutation: { signUp, signIn, signOut },
  User,
};
