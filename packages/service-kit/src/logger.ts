import { pino, type Logger } from "pino";

export type { Logger } from "pino";

/**
 * Structured JSON logs on stdout (pino), one object per line, with `service` on every line. The
 * request logger adds `requestId`, so one id follows a request through gateway and subgraphs.
 */
export function createLogger(service: string, level = "info"): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Never log credentials, even by accident.
    redact: {
      paths: ["req.headers.cookie", "req.headers.authorization", "*.password", "*.token"],
      remove: true,
    },
  });
}
