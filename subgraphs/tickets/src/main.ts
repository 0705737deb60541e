/** Tickets subgraph entry point: `pnpm --filter @boxoffice/tickets start`. */
import { createLogger, runMain, stopOnSignals } from "@boxoffice/service-kit";
import { startTickets } from "./app.ts";
import { ticketsEnv } from "./env.ts";

runMain(async () => {
  const env = ticketsEnv();
  const logger = createLogger("tickets", env.LOG_LEVEL);
  const app = await startTickets(env, logger);
  stopOnSignals(app, logger);
});
