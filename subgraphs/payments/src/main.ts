/** Payments subgraph entry point: `pnpm --filter @boxoffice/payments start`. */
import { createLogger, runMain, stopOnSignals } from "@boxoffice/service-kit";
import { startPayments } from "./app.ts";
import { paymentsEnv } from "./env.ts";

runMain(async () => {
  const env = paymentsEnv();
  const logger = createLogger("payments", env.LOG_LEVEL);
  const app = await startPayments(env, logger);
  stopOnSignals(app, logger);
});
