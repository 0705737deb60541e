/**
 * The real accounts subgraph as a separate process for the tickets tests (tokens, JWKS, signOut →
 * `session.revoked`); see `accountsGlobalSetup` in @boxoffice/service-kit/testing-accounts.
 */
import path from "node:path";
import { accountsGlobalSetup } from "@boxoffice/service-kit/testing-accounts";

// Started from its folder as a process, never imported (a subgraph never imports another).
export default accountsGlobalSetup(
  "tickets_accounts",
  path.resolve(import.meta.dirname, "../../../accounts"),
);
