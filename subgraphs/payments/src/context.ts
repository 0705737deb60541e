import type { AuthContext } from "@boxoffice/auth-verify";
import type { ReadYourWrites } from "@boxoffice/events";
import type { RequestScope } from "@boxoffice/service-kit";
import type DataLoader from "dataloader";
import type { Payment } from "./generated/prisma/client.ts";
import type { PaymentsServices } from "./services.ts";

/** Per-request GraphQL context of the payments subgraph. */
export interface PaymentsContext extends AuthContext, RequestScope {
  services: PaymentsServices;
  /** Read-your-writes over this service's read-model consumers (`waitFor` arguments, freshness). */
  consistency: ReadYourWrites;
  /** Per-request DataLoaders (batching and caching within one request only). */
  loaders: { payment: DataLoader<string, Payment | null> };
}
