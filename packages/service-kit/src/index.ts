// Public entry point of @boxoffice/service-kit.
export { EnvError, envFields, loadEnv } from "./env.ts";
export { connectKafka, eventNames, type EventNames } from "./event-names.ts";
export { createPollingLoop, type PollingLoop } from "./polling-loop.ts";
export { badUserInput, CLIENT_ERROR_CODES, conflict, maskErrors, notFound } from "./errors.ts";
export { isUuid, parseUuid } from "./ids.ts";
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
  type RequestScope,
  type RunningService,
  type ServiceOptions,
  type ShutdownStep,
} from "./server.ts";
