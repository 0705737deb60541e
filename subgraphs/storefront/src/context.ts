import type { AuthContext } from "@boxoffice/auth-verify";
import type { ReadYourWrites } from "@boxoffice/events";
import type { RequestScope } from "@boxoffice/service-kit";
import type DataLoader from "dataloader";
import type { Availability, StorefrontServices } from "./services.ts";

/** Per-request GraphQL context of the storefront subgraph. */
export interface StorefrontContext extends AuthContext, RequestScope {
  services: StorefrontServices;
  /** Read-your-writes over this service's read-model consumers (`waitFor` arguments, freshness). */
  consistency: ReadYourWrites;
  /** Per-request DataLoaders (batching and caching within one request only). */
  loaders: { availability: DataLoader<string, Availability | null> };
}
