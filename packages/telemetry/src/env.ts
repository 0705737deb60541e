import { z } from "zod";

/**
 * The telemetry settings of a process, read once from its environment. Both are optional: with
 * neither set, tracing stays off and no OpenTelemetry SDK is loaded (metrics are always on).
 */
export const telemetryEnvSchema = z.object({
  /**
   * OTLP/HTTP endpoint of a collector, e.g. `http://otel-collector:4318` (the standard variable of
   * the OpenTelemetry SDK specification, "OTLP Exporter Configuration"); traces go to
   * `<endpoint>/v1/traces`.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /**
   * A directory: every process appends its finished spans as JSON lines to
   * `<dir>/<service>-<pid>.jsonl` (local runs without a collector, tests; read with
   * `boxoffice-trace`).
   */
  TELEMETRY_TRACES_DIR: z.string().min(1).optional(),
});

export type TelemetryEnv = z.infer<typeof telemetryEnvSchema>;

/** Parses the telemetry variables; empty strings count as unset. @throws ZodError on a bad URL. */
export function telemetryEnv(source: NodeJS.ProcessEnv = process.env): TelemetryEnv {
  return telemetryEnvSchema.parse({
    OTEL_EXPORTER_OTLP_ENDPOINT: source.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    TELEMETRY_TRACES_DIR: source.TELEMETRY_TRACES_DIR || undefined,
  });
}
