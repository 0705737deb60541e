export { CompositionError, composeSdl, composeSupergraph, type SubgraphSource } from "./compose.ts";
export { SUBGRAPHS } from "./subgraphs.ts";
export { DEFAULT_CORS_ORIGINS } from "./env.ts";
export {
  DEFAULT_LIMITS,
  FORWARDED_HEADERS,
  startGateway,
  SubgraphDataSource,
  type GatewayContext,
  type GatewayOptions,
  type QueryLimits,
  type RunningGateway,
} from "./gateway.ts";
