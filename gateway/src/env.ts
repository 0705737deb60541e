import path from "node:path";
import { fileURLToPath } from "node:url";
import { envFields, loadEnv } from "@boxoffice/service-kit";
import { GATEWAY_PORT, SUBGRAPH_NAMES, subgraphUrlVariable } from "@boxoffice/topology";
import { z } from "zod";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Browser origins the gateway allows by default: the web client of `pnpm start` and Apollo Studio. */
export const DEFAULT_CORS_ORIGINS = ["http://localhost:3000", "https://studio.apollographql.com"];

/** `SUBGRAPH_URL_<NAME>`: an optional URL, for every subgraph the topology declares. */
function subgraphUrlFields(): Record<string, z.ZodOptional<z.ZodURL>> {
  return Object.fromEntries(SUBGRAPH_NAMES.map((name) => [subgraphUrlVariable(name), z.url().optional()]));
}

const schema = z
  .object({
    NODE_ENV: envFields.nodeEnv,
    LOG_LEVEL: envFields.logLevel,
    GATEWAY_PORT: envFields.port(GATEWAY_PORT),
    GATEWAY_HOST: z.string().default("127.0.0.1"),
    /** Supergraph SDL written by `pnpm --filter @boxoffice/gateway compose`. */
    GATEWAY_SUPERGRAPH_PATH: z.string().default(path.resolve(here, "../supergraph.graphql")),
    /** Browser origins allowed to call the gateway with credentials (CORS); never `*`. */
    GATEWAY_CORS_ORIGINS: envFields.csv.default(DEFAULT_CORS_ORIGINS),
    /**
     * Longest wait for one subgraph response, in ms (100 ms to 2 min); then the client gets a typed
     * SERVICE_UNAVAILABLE for that subgraph's fields, so a frozen subgraph never holds requests longer.
     */
    GATEWAY_SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /**
     * Per-subgraph URL overrides, e.g. SUBGRAPH_URL_ACCOUNTS=http://accounts:4001/graphql: one optional
     * variable per subgraph of the topology (@boxoffice/topology).
     */
    ...subgraphUrlFields(),
    /** Sent to every subgraph, which answers nobody else (sealed subgraphs). Required in production. */
    GATEWAY_SHARED_SECRET: envFields.gatewaySecret,
    /** Reverse proxies in front of the gateway whose X-Forwarded-For is trusted (hop count, 0 to 10). */
    GATEWAY_TRUSTED_PROXIES: z.coerce.number().int().min(0).max(10).default(0),
    /** Operation cost one client (address) may spend per window (see GATEWAY_OPERATION_BUDGET_WINDOW_SECONDS). */
    GATEWAY_OPERATION_BUDGET: z.coerce.number().int().min(1).default(20_000),
    GATEWAY_OPERATION_BUDGET_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
    /** PostgreSQL for rate-limit counters shared by every gateway instance; unset: in memory. */
    GATEWAY_RATE_LIMIT_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === "production" && !env.GATEWAY_SHARED_SECRET) {
      ctx.addIssue({ code: "custom", path: ["GATEWAY_SHARED_SECRET"], message: "required in production" });
    }
  });

export type GatewayEnv = z.infer<typeof schema>;

/** The gateway's validated configuration (the only place that reads `process.env`). */
export function gatewayEnv(source: NodeJS.ProcessEnv = process.env): GatewayEnv {
  return loadEnv(schema, source);
}

/** SUBGRAPH_URL_<NAME> overrides as a name → url map (subgraph names of the topology). */
export function subgraphUrlOverrides(env: GatewayEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SUBGRAPH_NAMES) {
    const value = (env as Record<string, unknown>)[subgraphUrlVariable(name)];
    if (typeof value === "string") out[name] = value;
  }
  return out;
}

/**
 * Turns off @apollo/gateway's anonymous usage-data exporter (2.14+). Unless
 * `APOLLO_TELEMETRY_DISABLED` is `"true"` or `"1"` when `new ApolloGateway()` runs, the gateway
 * probes cloud metadata addresses (169.254.169.254, 100.100.100.200, metadata.google.internal) and
 * sends usage data to usage-reporting.api.apollographql.com (see `dist/index.js` of
 * @apollo/gateway). Boxoffice sends nothing to third parties, so this is not configurable: call it
 * before constructing the gateway. The library reads only the environment, hence the write here.
 */
export function disableApolloTelemetry(target: NodeJS.ProcessEnv = process.env): void {
  target.APOLLO_TELEMETRY_DISABLED = "true";
}
