// Public entry point of @boxoffice/telemetry.
export { telemetryEnv, telemetryEnvSchema, type TelemetryEnv } from "./env.ts";
export { httpTelemetry } from "./http.ts";
export {
  consumerMessages,
  graphqlErrors,
  graphqlOperationDuration,
  metricsHandler,
  metricsText,
  rateLimitRefusals,
  registry,
  relayFailures,
  relayPublished,
  signingKeysPublished,
  signingKeysRefreshed,
  watchConsumer,
  watchOutbox,
  type ConsumerProbe,
  type OutboxProbe,
} from "./metrics.ts";
export { shutdownTelemetry, startTelemetry } from "./setup.ts";
export {
  contextOf,
  currentTraceparent,
  failSpan,
  injectTraceHeaders,
  inSpan,
  linkTo,
  SpanKind,
  traceLogFields,
  traceparentOf,
  tracer,
  tracingEnabled,
  type Span,
  type SpanOptions,
} from "./tracing.ts";
