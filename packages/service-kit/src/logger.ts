import { startTelemetry, traceLogFields } from "@boxoffice/telemetry";
import { pino, type Logger } from "pino";

export type { Logger } from "pino";

/**
 * Structured JSON logs on stdout (pino), one object per line, with `service` on every line. The
 * request logger adds `requestId`, so one id follows a request through gateway and subgraphs; with
 * tracing on, every line logged inside a span carries its `trace_id` and `span_id`.
 *
 * Also starts the process's telemetry (`startTelemetry(service)`, once): a service's `main` creates its
 * logger first, so tracing is registered before any server, relay or consumer exists.
 *
 * @throws ZodError when `OTEL_EXPORTER_OTLP_ENDPOINT` is set but not a URL.
 */
export function createLogger(service: string, level = "info"): Logger {
  startTelemetry(service);
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceLogFields,
    // Never log credentials, even by accident.
    redact: {
      paths: ["req.headers.cookie", "req.headers.authorization", "*.password", "*.token"],
      remove: true,
    },
  });
}
