import type { Resolvers } from "../generated/graphql.ts";
import { payForOrder } from "./mutation-pay-for-order.ts";
import { Payment } from "./payment.ts";
import { payment } from "./query-payment.ts";

export const resolvers: Resolvers = {
  Query: { payment },
  Mutation: { payForOrder },
  Payment,
};
