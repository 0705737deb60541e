/** Storefront subgraph entry point: `pnpm --filter @boxoffice/storefront start`. */
import { createLogger, runMain, stopOnSignals } from "@boxoffice/service-kit";
import { startStorefront } from "./app.ts";
import { storefrontEnv } from "./env.ts";

runMain(async () => {
  const env = storefrontEnv();
  const logger = createLogger("storefront", env.LOG_LEVEL);
  const app = await startStorefront(env, logger, {
    onReadModelLockLost: () => {
      process.exitCode = 1;
    },
  });
  stopOnSignals(app, logger);
});
