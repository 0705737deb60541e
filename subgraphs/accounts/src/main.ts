/** Accounts subgraph entry point: `pnpm --filter @boxoffice/accounts start`. */
import { createLogger, runMain, stopOnSignals } from "@boxoffice/service-kit";
import { startAccounts } from "./app.ts";
import { accountsEnv } from "./env.ts";

runMain(async () => {
  const env = accountsEnv();
  const logger = createLogger("accounts", env.LOG_LEVEL);
  const app = await startAccounts(env, logger);
  stopOnSignals(app, logger);
});
