import type { Resolvers } from "../generated/graphql.ts";
import { cancelOrder } from "./mutation-cancel-order.ts";
import { createOrder } from "./mutation-create-order.ts";
import { Order } from "./order.ts";
import { myOrders } from "./query-my-orders.ts";
import { order } from "./query-order.ts";

export const resolvers: Resolvers = {
  Query: { order, myOrders },
  Mutation: { createOrder, cancelOrder },
  Order,
};
