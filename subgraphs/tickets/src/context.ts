import type { AuthContext } from "@boxoffice/auth-verify";
import type { ReadYourWrites } from "@boxoffice/events";
import type { RequestScope } from "@boxoffice/service-kit";
import type DataLoader from "dataloader";
import type { Ticket } from "./generated/prisma/client.ts";
import type { TicketsServices } from "./services.ts";

/** Per-request GraphQL context of the tickets subgraph. */
export interface TicketsContext extends AuthContext, RequestScope {
  services: TicketsServices;
  /** Read-your-writes over this service's read-model consumers (`waitFor` arguments, freshness). */
  consistency: ReadYourWrites;
  /** Per-request DataLoaders (batching and caching within one request only). */
  loaders: { ticket: DataLoader<string, Ticket | null> };
}
