import type { AuthContext } from "@boxoffice/auth-verify";
import type { ReadYourWrites } from "@boxoffice/events";
import type { RequestScope } from "@boxoffice/service-kit";
import type DataLoader from "dataloader";
import type { Order } from "./generated/prisma/client.ts";
import type { OrdersServices } from "./services.ts";

/** Per-request GraphQL context of the orders subgraph. */
export interface OrdersContext extends AuthContext, RequestScope {
  services: OrdersServices;
  /** Read-your-writes over this service's read-model consumers (`waitFor` arguments, freshness). */
  consistency: ReadYourWrites;
  /** Per-request DataLoaders (batching and caching within one request only). */
  loaders: { order: DataLoader<string, Order | null> };
}
