/** Orders subgraph entry point: `pnpm --filter @boxoffice/orders start`. */
import { createLogger, runMain, stopOnSignals } from "@boxoffice/service-kit";
import { startOrders } from "./app.ts";
import { ordersEnv } from "./env.ts";

runMain(async () => {
  const env = ordersEnv();
  const logger = createLogger("orders", env.LOG_LEVEL);
  const app = await startOrders(env, logger);
  stopOnSignals(app, logger);
});
