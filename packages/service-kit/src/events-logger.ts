import type { EventsLogger } from "@boxoffice/events";
import type { Logger } from "pino";

/**
 * Adapts the service's pino logger to the events package's `(message, fields)` logging seam (pino
 * takes the fields object first; passed second it would be treated as a format argument and lost).
 */
export function eventsLogger(logger: Logger): EventsLogger {
  return {
    debug: (message, fields) => logger.debug(fields ?? {}, message),
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}
