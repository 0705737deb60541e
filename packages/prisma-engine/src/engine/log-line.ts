/**
 * One stderr log line in the native engine's format (tracing JSON). The Prisma CLI parses
 * each stderr line as JSON and reads `level`, `target` and `fields.message`; for
 * `cli can-connect-to-database` it looks for `level: "ERROR"`, `target: "schema_engine::logger"`
 * and `fields.error_code` (e.g. `P1003`, which makes it run `cli create-database`).
 */
export interface EngineLogLine {
  timestamp: string;
  level: "ERROR" | "WARN" | "INFO" | "DEBUG" | "TRACE";
  target: string;
  fields: { message: string; error_code?: string; [key: string]: unknown };
}

/** Serialises a log line for stderr (one JSON object, no trailing newline). */
export function logLine(
  level: EngineLogLine["level"],
  message: string,
  extra: Record<string, unknown> = {},
  target = "schema_engine::logger",
): string {
  const line: EngineLogLine = {
    timestamp: new Date().toISOString(),
    level,
    target,
    fields: { message, ...extra },
  };
  return JSON.stringify(line);
}
