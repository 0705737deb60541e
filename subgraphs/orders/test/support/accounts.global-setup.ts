/**
 * The real accounts subgraph as a separate process for the orders tests (tokens, JWKS, signOut →
 * `session.revoked`); see `accountsGlobalSetup` in @boxoffice/service-kit/testing-accounts.
 */
import { accountsGlobalSetup } from "@boxoffice/service-kit/testing-accounts";

export default accountsGlobalSetup("orders_accounts");
