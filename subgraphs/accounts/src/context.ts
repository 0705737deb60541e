import type { AuthContext } from "@boxoffice/auth-verify";
import type { RequestScope } from "@boxoffice/service-kit";
import type { Response } from "express";
import type DataLoader from "dataloader";
import type { User } from "./generated/prisma/client.ts";
import type { AccountsServices } from "./services.ts";

/** Per-request GraphQL context of the accounts subgraph. */
export interface AccountsContext extends AuthContext, RequestScope {
  services: AccountsServices;
  /** Per-request DataLoaders (batching and caching within one request only). */
  loaders: { user: DataLoader<string, User | null> };
  /**
   * Who this request acts for: the verified session's user, or the user that signUp/signIn has just
   * signed in during this request (their own payload may show private fields).
   */
  viewer: { userId?: string };
  /** The HTTP response, to set and clear the session cookie. */
  res: Response;
}
