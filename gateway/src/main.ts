/** Gateway entry point: `pnpm --filter @boxoffice/gateway start` (after `compose`). */
import { readFile } from "node:fs/promises";
import { createLogger, runMain, stopOnSignals } from "@boxoffice/service-kit";
import { gatewayEnv, subgraphUrlOverrides } from "./env.ts";
import { startGateway } from "./gateway.ts";

const env = gatewayEnv();
const logger = createLogger("gateway", env.LOG_LEVEL);

runMain(async () => {
  const supergraphSdl = await readFile(env.GATEWAY_SUPERGRAPH_PATH, "utf8").catch((error: unknown) => {
    throw new Error(
      `Cannot read the supergraph at ${env.GATEWAY_SUPERGRAPH_PATH}: run \`pnpm --filter @boxoffice/gateway compose\` first.`,
      { cause: error },
    );
  });
  const gateway = await startGateway({
    supergraphSdl,
    port: env.GATEWAY_PORT,
    host: env.GATEWAY_HOST,
    corsOrigins: env.GATEWAY_CORS_ORIGINS,
    production: env.NODE_ENV === "production",
    logger,
    urlOverrides: subgraphUrlOverrides(env),
    subgraphTimeoutMs: env.GATEWAY_SUBGRAPH_TIMEOUT_MS,
    gatewaySecret: env.GATEWAY_SHARED_SECRET,
    trustedProxies: env.GATEWAY_TRUSTED_PROXIES,
    budget: {
      points: env.GATEWAY_OPERATION_BUDGET,
      windowSeconds: env.GATEWAY_OPERATION_BUDGET_WINDOW_SECONDS,
      databaseUrl: env.GATEWAY_RATE_LIMIT_DATABASE_URL,
    },
  });
  stopOnSignals(gateway, logger, 10_000);
}, logger);
