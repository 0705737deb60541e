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
  });
  stopOnSignals(gateway, logger, 10_000);
}, logger);
