// Public entry point of @boxoffice/service-kit.
export {
  EnvError,
  envFields,
  kafkaSecurity,
  kafkaSecurityIssues,
  loadEnv,
  type KafkaSecurityEnv,
} from "./env.ts";
export {
  subgraphEnv,
  verifyingSubgraphEnv,
  type SubgraphEnv,
  type SubgraphListenFields,
} from "./subgraph-env.ts";
export {
  connectKafka,
  DEFAULT_TOPIC_LAYOUT,
  eventNames,
  type EventNames,
  type TopicLayout,
} from "./event-names.ts";
export { createPollingLoop, type PollingLoop } from "./polling-loop.ts";
export {
  badUserInput,
  CLIENT_ERROR_CODES,
  conflict,
  maskErrors,
  notFound,
  notYetReplicated,
} from "./errors.ts";
export { isUuid, parseUuid } from "./ids.ts";
export { awaitConsistency, tokenOf, tokenOfWrites } from "./consistency.ts";
export { eventsLogger } from "./events-logger.ts";
export { jsonErrorHandler } from "./http-errors.ts";
export { createLogger, type Logger } from "./logger.ts";
export { operationLogPlugin } from "./operation-log.ts";
export {
  REQUEST_ID_HEADER,
  runMain,
  startService,
  stopOnSignals,
  type ReadinessCheck,
  type ReadinessResult,
  type RequestScope,
  type RunningService,
  type ServiceOptions,
  type ShutdownStep,
} from "./server.ts";
export {
  COST_LIMIT_CODE,
  costLimitError,
  listFieldsWithoutSize,
  listSizesOf,
  operationCost,
  type ListSize,
  type ListSizes,
} from "./demand-control.ts";
export {
  CLIENT_ADDRESS_HEADER,
  costLimitPlugin,
  DEFAULT_QUERY_LIMITS,
  GATEWAY_SECRET_HEADER,
  gatewayOnly,
  listSizesOfSchema,
  secretMatches,
  type QueryLimits,
} from "./subgraph-guard.ts";
