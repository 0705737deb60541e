import path from "node:path";
import { fileURLToPath } from "node:url";
import { envFields, loadEnv } from "@boxoffice/service-kit";
import { z } from "zod";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Browser origins the gateway allows by default: the web client of `pnpm start` and Apollo Studio. */
export const DEFAULT_CORS_ORIGINS = ["http://localhost:3000", "https://studio.apollographql.com"];

const schema = z.object({
  NODE_ENV: envFields.nodeEnv,
  LOG_LEVEL: envFields.logLevel,
  GATEWAY_PORT: envFields.port(4000),
  GATEWAY_HOST: z.string().default("127.0.0.1"),
  /** Supergraph SDL written by `pnpm --filter @boxoffice/gateway compose`. */
  GATEWAY_SUPERGRAPH_PATH: z.string().default(path.resolve(here, "../supergraph.graphql")),
  /** Browser origins allowed to call the gateway with credentials (CORS); never `*`. */
  GATEWAY_CORS_ORIGINS: envFields.csv.default(DEFAULT_CORS_ORIGINS),
  /** Per-subgraph URL overrides, e.g. SUBGRAPH_URL_ACCOUNTS=http://accounts:4001/graphql. */
  SUBGRAPH_URL_ACCOUNTS: z.url().optional(),
  SUBGRAPH_URL_TICKETS: z.url().optional(),
  SUBGRAPH_URL_ORDERS: z.url().optional(),
  SUBGRAPH_URL_PAYMENTS: z.url().optional(),
  SUBGRAPH_URL_STOREFRONT: z.url().optional(),
});

export type GatewayEnv = z.infer<typeof schema>;

/** The gateway's validated configuration (the only place that reads `process.env`). */
export function gatewayEnv(source: NodeJS.ProcessEnv = process.env): GatewayEnv {
  return loadEnv(schema, source);
}

/** SUBGRAPH_URL_<NAME> overrides as a name → url map. */
export function subgraphUrlOverrides(env: GatewayEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith("SUBGRAPH_URL_") && typeof value === "string") {
      out[key.slice("SUBGRAPH_URL_".length).toLowerCase()] = value;
    }
  }
  return out;
}
